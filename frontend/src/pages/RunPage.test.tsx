import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RunDetail } from "../api/types";
import type { RunEvent } from "../live/protocol";
import { applyBatch, createRunViewStore, type RunViewStoreApi } from "../live/runStore";
import { RunStoreContext } from "../run/context";
import { fakeApi } from "../test/fakeApi";
import { ev } from "../test/fakes";
import { Toasts, useToasts } from "../ui/toasts";
import { RunHeader } from "./RunPage";

const RUN = {
  id: "r-1",
  workflow: "w-1",
  workflow_name: "Demo",
  version: 1,
  state: "running",
  started_at: "2026-01-01T00:00:00Z",
  finished_at: null,
} as unknown as RunDetail;

function renderHeader(store: RunViewStoreApi) {
  return render(
    <MemoryRouter>
      <RunStoreContext.Provider value={store}>
        <RunHeader run={RUN} workflowName="Demo" labels={new Map()} onRefresh={() => undefined} />
      </RunStoreContext.Provider>
      <Toasts />
    </MemoryRouter>,
  );
}

/** The run's live state after `events`, as the socket would have delivered them. */
function live(...events: RunEvent[]): RunViewStoreApi {
  const store = createRunViewStore(["a"]);
  applyBatch(store, events);
  return store;
}

beforeEach(() => {
  useToasts.setState({ toasts: [] });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("cancelling a run", () => {
  it("says “Cancelling…” until the run's own cancelled event, then shows the final state and nothing else", async () => {
    const calls = fakeApi({ "POST /api/v1/runs/r-1/cancel/": () => ({ body: { ...RUN } }) });
    const store = live(ev(1, "run.queued", {}), ev(2, "run.started", {}));
    renderHeader(store);
    fireEvent.click(screen.getByTestId("cancel-run"));
    await waitFor(() => expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(["POST /api/v1/runs/r-1/cancel/"]));
    const button = screen.getByTestId("cancel-run") as HTMLButtonElement;
    await waitFor(() => expect(button.textContent).toBe("Cancelling…"));
    expect(button.disabled).toBe(true);
    expect(screen.getByTestId("run-state").textContent).toContain("running");

    act(() => applyBatch(store, [ev(3, "run.cancelled", { reason: "cancelled by demo" })]));
    expect(screen.queryByTestId("cancel-run")).toBeNull();
    expect(screen.queryByText("Cancelling…")).toBeNull();
    expect(screen.getByTestId("run-state").textContent).toContain("cancelled");
    expect(screen.getByTestId("resume-run")).toBeTruthy();
  });

  it("ends “Cancelling…” on any final state: the run may succeed before the workers see the cancel", async () => {
    fakeApi({ "POST /api/v1/runs/r-1/cancel/": () => ({ body: { ...RUN } }) });
    const store = live(ev(1, "run.started", {}));
    renderHeader(store);
    fireEvent.click(screen.getByTestId("cancel-run"));
    await waitFor(() => expect(screen.getByTestId("cancel-run").textContent).toBe("Cancelling…"));
    act(() => applyBatch(store, [ev(2, "run.succeeded", { output: "done" })]));
    expect(screen.queryByText("Cancelling…")).toBeNull();
    expect(screen.getByTestId("run-state").textContent).toContain("succeeded");
  });

  it("shows a refused cancel as an error toast and offers the button again", async () => {
    fakeApi({
      "POST /api/v1/runs/r-1/cancel/": () => ({
        status: 409,
        body: { code: "run_finished", message: "The run has already finished." },
      }),
    });
    renderHeader(live(ev(1, "run.started", {})));
    fireEvent.click(screen.getByTestId("cancel-run"));
    const toast = await screen.findByTestId("toast");
    expect(toast.textContent).toContain("The run has already finished.");
    expect(toast.className).toContain("toast-error");
    const button = screen.getByTestId("cancel-run") as HTMLButtonElement;
    expect(button.textContent).toBe("Cancel");
    expect(button.disabled).toBe(false);
  });
});
