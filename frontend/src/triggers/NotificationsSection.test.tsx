import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeApi, WS, type Handler } from "../test/fakeApi";
import type { Notifications } from "./api";
import { NotificationsSection, targetErrors, toDraft, toTarget } from "./NotificationsSection";
import { ApiError } from "../api/client";

const WF = "22222222-2222-2222-2222-222222222222";
const URL = `/api/v1/workflows/${WF}/notifications/`;
const saved: Notifications = {
  version: 4,
  notifications: [
    { kind: "webhook", on: ["failed"], url: "https://ops.example.com/hook", credential: "c-http" },
    { kind: "email", on: ["failed", "succeeded"], to: ["ops@example.com"] },
  ],
};
const delivery = {
  id: 7,
  run: "abcdef12-0000-0000-0000-000000000000",
  destination: "https://ops.example.com/hook",
  target: 0,
  event: "failed",
  kind: "webhook",
  state: "delivered",
  attempts: 3,
  last_status: 204,
  last_error: "",
  next_attempt_at: "2027-01-01T00:00:00Z",
  created_at: "2027-01-01T00:00:00Z",
  delivered_at: "2027-01-01T00:00:07Z",
};

function routes(extra: Record<string, Handler> = {}): Record<string, Handler> {
  return {
    [`GET ${URL}`]: () => ({ body: saved }),
    [`GET ${URL}deliveries/`]: () => ({ body: [delivery] }),
    "GET /api/v1/credentials/": () => ({
      body: {
        next: null,
        previous: null,
        results: [
          { id: "c-http", workspace: WS, name: "Ops signing", provider: "http" },
          { id: "c-llm", workspace: WS, name: "OpenAI", provider: "openai" },
        ],
      },
    }),
    ...extra,
  };
}

function renderSection(
  over: { readOnly?: boolean; prepare?: () => Promise<number>; onSaved?: (n: Notifications) => void } = {},
) {
  render(
    <MemoryRouter>
      <NotificationsSection
        workflowId={WF}
        workspace={WS}
        readOnly={over.readOnly ?? false}
        prepare={over.prepare ?? (() => Promise.resolve(4))}
        onSaved={over.onSaved ?? (() => {})}
      />
    </MemoryRouter>,
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("notification settings", () => {
  it("shows the targets and saves an edit against the version the editor saved", async () => {
    const calls = fakeApi(
      routes({
        [`PUT ${URL}`]: (body) => ({ body: { ...(body as Notifications), version: 5 } }),
      }),
    );
    const prepare = vi.fn(() => Promise.resolve(4));
    const onSaved = vi.fn();
    renderSection({ prepare, onSaved });
    const targets = await screen.findAllByTestId("notification-target");
    expect(targets).toHaveLength(2);
    expect(screen.getByLabelText<HTMLInputElement>("Target 1 URL").value).toBe("https://ops.example.com/hook");
    const signing = screen.getByLabelText<HTMLSelectElement>("Target 1 signing credential");
    await waitFor(() =>
      expect(
        within(signing)
          .getAllByRole("option")
          .map((o) => o.textContent),
      ).toContain("Ops signing"),
    );
    // Only http credentials sign.
    expect(within(signing).queryByText("OpenAI")).toBeNull();
    fireEvent.change(screen.getByLabelText("Target 2 recipients"), { target: { value: "a@b.test; c@d.test" } });
    fireEvent.click(screen.getAllByLabelText("waits for an approval")[0]!);
    fireEvent.click(screen.getByText("Add a target"));
    fireEvent.change(screen.getByLabelText("Target 3 URL"), { target: { value: " https://x.example.com/in " } });
    fireEvent.click(screen.getByTestId("save-notifications"));
    expect(await screen.findByText("Saved as version 5.")).toBeTruthy();
    expect(prepare).toHaveBeenCalledOnce();
    const put = calls.find((c) => c.method === "PUT");
    expect(put?.body).toEqual({
      version: 4,
      notifications: [
        { ...saved.notifications[0], on: ["failed", "waiting"] },
        { kind: "email", on: ["failed", "succeeded"], to: ["a@b.test", "c@d.test"] },
        { kind: "webhook", on: ["failed"], url: "https://x.example.com/in" },
      ],
    });
    expect(onSaved).toHaveBeenCalledWith(expect.objectContaining({ version: 5 }));
  });

  it("puts the server's refusal beside the target it is about", async () => {
    fakeApi(
      routes({
        [`PUT ${URL}`]: () => ({
          status: 400,
          body: {
            code: "invalid",
            message: "notifications: url: Deliveries would be refused: 10.0.0.1:80 refused: private address",
            fields: { notifications: { "1": { url: ["Deliveries would be refused: 10.0.0.1:80 refused"] } } },
          },
        }),
      }),
    );
    const onSaved = vi.fn();
    renderSection({ onSaved });
    await screen.findAllByTestId("notification-target");
    fireEvent.change(screen.getByLabelText("Target 2 kind"), { target: { value: "webhook" } });
    fireEvent.change(screen.getByLabelText("Target 2 URL"), { target: { value: "http://10.0.0.1/" } });
    fireEvent.click(screen.getByTestId("save-notifications"));
    const error = await screen.findByTestId("notification-target-error-1");
    expect(error.textContent).toContain("url: Deliveries would be refused");
    expect(screen.queryByTestId("notifications-error")).toBeNull();
    expect(onSaved).not.toHaveBeenCalled();
  });

  it("does not save when the editor could not save first", async () => {
    const calls = fakeApi(routes());
    renderSection({ prepare: () => Promise.reject(new Error("Resolve the save conflict first.")) });
    await screen.findAllByTestId("notification-target");
    fireEvent.click(screen.getByText("Add a target"));
    fireEvent.click(screen.getByTestId("save-notifications"));
    expect((await screen.findByTestId("notifications-error")).textContent).toContain("save conflict");
    expect(calls.some((c) => c.method === "PUT")).toBe(false);
  });

  it("is read-only for viewers", async () => {
    const calls = fakeApi(routes());
    renderSection({ readOnly: true });
    await screen.findAllByTestId("notification-target");
    expect(screen.queryByTestId("save-notifications")).toBeNull();
    expect(screen.getByLabelText<HTMLInputElement>("Target 1 URL").closest("fieldset")?.disabled).toBe(true);
    expect(calls.some((c) => c.path === "/api/v1/credentials/")).toBe(false);
  });

  it("lists the last deliveries with their state, attempts and answer", async () => {
    fakeApi(routes());
    renderSection();
    const row = await screen.findByTestId("notification-delivery");
    expect(row.textContent).toContain("abcdef12");
    expect(row.textContent).toContain("https://ops.example.com/hook");
    expect(row.textContent).toContain("delivered");
    expect(row.textContent).toContain("3");
    expect(row.textContent).toContain("204");
  });
});

describe("targets as the form edits them", () => {
  it("round-trips, splitting recipients on commas, semicolons and spaces", () => {
    for (const target of saved.notifications) expect(toTarget(toDraft(target))).toEqual(target);
    const draft = { ...toDraft(saved.notifications[1]!), to: "a@b.test,  c@d.test ;e@f.test" };
    expect(toTarget(draft).to).toEqual(["a@b.test", "c@d.test", "e@f.test"]);
  });

  it("reads the per-target errors of a 400", () => {
    const error = new ApiError(400, {
      code: "invalid",
      message: "m",
      fields: { notifications: { "0": { to: { "1": ["Enter a valid email address."] } }, "2": ["bad"] } },
    });
    expect(targetErrors(error)).toEqual({ 0: "to: 1: Enter a valid email address.", 2: "bad" });
    expect(targetErrors(new Error("x"))).toEqual({});
  });
});
