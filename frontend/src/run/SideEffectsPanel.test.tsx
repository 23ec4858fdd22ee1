import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SideEffect } from "../api/endpoints";
import type { Me, Role } from "../api/types";
import type { RunEvent } from "../live/protocol";
import { applyBatch, createRunViewStore, type RunViewStoreApi } from "../live/runStore";
import { useSession } from "../session/store";
import { fakeApi, WS } from "../test/fakeApi";
import { ev } from "../test/fakes";
import { Toasts, useToasts } from "../ui/toasts";
import { RunStoreContext } from "./context";
import { SideEffectsPanel } from "./SideEffectsPanel";

const LIST = "GET /api/v1/runs/r-1/side-effects/";

function effect(over: Partial<SideEffect> = {}): SideEffect {
  return {
    id: 1,
    node_id: "order",
    attempt: 1,
    step: 0,
    method: "POST",
    host: "127.0.0.1",
    path: "/orders",
    status: 201,
    idempotency_key: "",
    compensation: { method: "DELETE", url: "http://127.0.0.1/orders/1" },
    state: "done",
    error: null,
    rollback_requested_at: null,
    resolved_by: null,
    created_at: "2026-01-01T00:00:00Z",
    finished_at: null,
    ...over,
  };
}

function signIn(role: Role) {
  const me = { id: 1, username: "demo", workspaces: [{ id: WS, name: "Demo", role }] } as unknown as Me;
  useSession.setState({ status: "ready", me, workspaceId: WS, error: null });
}

function live(...events: RunEvent[]): RunViewStoreApi {
  const store = createRunViewStore(["order"]);
  applyBatch(store, events);
  return store;
}

function renderPanel(store: RunViewStoreApi) {
  return render(
    <RunStoreContext.Provider value={store}>
      <SideEffectsPanel runId="r-1" workspace={WS} />
      <Toasts />
    </RunStoreContext.Provider>,
  );
}

const stateOf = (id: number) => within(screen.getByTestId(`side-effect-${id}`)).getByTestId("side-effect-state");

beforeEach(() => {
  useToasts.setState({ toasts: [] });
  signIn("editor");
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("side effects", () => {
  it("rolls back after a confirmation, then follows the sideeffect events", async () => {
    let rows = [effect(), effect({ id: 2, node_id: "note", compensation: { manual: "Call the bank." } })];
    const calls = fakeApi({
      [LIST]: () => ({ body: rows }),
      "POST /api/v1/runs/r-1/rollback/": () => {
        rows = [
          effect({ rollback_requested_at: "2026-01-01T00:01:00Z" }),
          effect({ id: 2, node_id: "note", state: "manual", compensation: { manual: "Call the bank." } }),
        ];
        return { status: 202, body: rows };
      },
    });
    const store = live(ev(1, "run.started", {}), ev(2, "run.failed", {}));
    renderPanel(store);
    await waitFor(() => expect(stateOf(1).textContent).toBe("done"));
    expect(screen.getByTestId("side-effect-2").textContent).toContain("Call the bank.");

    fireEvent.click(screen.getByTestId("rollback-run"));
    expect(screen.getByTestId("rollback-dialog").textContent).toContain("Undo 2 side effects");
    fireEvent.click(screen.getByTestId("rollback-confirm"));
    await waitFor(() => expect(stateOf(1).textContent).toBe("rolling back…"));
    expect(screen.queryByTestId("rollback-dialog")).toBeNull();
    expect(stateOf(2).textContent).toBe("waiting for a person");
    expect(calls.filter((c) => c.method === "POST").map((c) => c.path)).toEqual(["/api/v1/runs/r-1/rollback/"]);

    rows = [effect({ state: "compensated", finished_at: "2026-01-01T00:01:01Z" }), rows[1]!];
    act(() =>
      applyBatch(store, [
        ev(
          3,
          "sideeffect.compensated",
          { side_effect_id: 1, method: "POST", host: "127.0.0.1", path: "/orders" },
          "order",
        ),
      ]),
    );
    await waitFor(() => expect(stateOf(1).textContent).toBe("compensated"));
  });

  it("marks a manual compensation resolved", async () => {
    const manual = effect({ id: 5, state: "manual", compensation: { manual: "Refund by hand." } });
    fakeApi({
      [LIST]: () => ({ body: [manual] }),
      "POST /api/v1/runs/r-1/side-effects/5/resolve/": () => ({ body: { ...manual, state: "compensated" } }),
    });
    renderPanel(live(ev(1, "run.succeeded", {})));
    fireEvent.click(await screen.findByTestId("side-effect-resolve"));
    await waitFor(() => expect(stateOf(5).textContent).toBe("compensated"));
    expect(screen.queryByTestId("side-effect-resolve")).toBeNull();
  });

  it("cannot roll back a running run, and viewers see no actions", async () => {
    fakeApi({
      [LIST]: () => ({ body: [effect(), effect({ id: 2, state: "manual", compensation: { manual: "x" } })] }),
    });
    const { unmount } = renderPanel(live(ev(1, "run.started", {})));
    await screen.findByTestId("side-effect-1");
    expect((screen.getByTestId("rollback-run") as HTMLButtonElement).disabled).toBe(true);
    unmount();

    signIn("viewer");
    renderPanel(live(ev(1, "run.failed", {})));
    await screen.findByTestId("side-effect-1");
    expect(screen.queryByTestId("rollback-run")).toBeNull();
    expect(screen.queryByTestId("side-effect-resolve")).toBeNull();
  });

  it("shows a refused rollback in the dialog", async () => {
    fakeApi({
      [LIST]: () => ({ body: [effect()] }),
      "POST /api/v1/runs/r-1/rollback/": () => ({
        status: 409,
        body: { code: "nothing_to_roll_back", message: "This run has no side effect left to compensate." },
      }),
    });
    renderPanel(live(ev(1, "run.failed", {})));
    await screen.findByTestId("side-effect-1");
    fireEvent.click(screen.getByTestId("rollback-run"));
    fireEvent.click(screen.getByTestId("rollback-confirm"));
    await waitFor(() =>
      expect(screen.getByTestId("rollback-dialog").textContent).toContain("no side effect left to compensate"),
    );
  });
});
