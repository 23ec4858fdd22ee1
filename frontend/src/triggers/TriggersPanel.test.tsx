import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeApi, WS, type Handler } from "../test/fakeApi";
import { TriggersPanel } from "./TriggersPanel";

const WF = "22222222-2222-2222-2222-222222222222";
const page = (results: unknown[]) => ({ body: { next: null, previous: null, results } });
const schedule = {
  id: "s-1",
  workspace: "w",
  workflow: WF,
  cron: "30 2 * * *",
  timezone: "Europe/Berlin",
  inputs: {},
  enabled: true,
  overlap: "skip",
  catch_up: "none",
  next_fire_at: "2027-03-28T01:30:00Z",
  created_at: "2027-01-01T00:00:00Z",
  updated_at: "2027-01-01T00:00:00Z",
};
const webhook = {
  id: "h-1",
  workspace: "w",
  workflow: WF,
  name: "orders",
  enabled: true,
  require_signature: true,
  inputs: "",
  respond: "accepted",
  wait_s: 10,
  rate_per_minute: 600,
  url: "/hooks/tok_abcdefghijklmnopqrstuvwxyz",
  created_at: "2027-01-01T00:00:00Z",
  updated_at: "2027-01-01T00:00:00Z",
};

/** The panel's other endpoints, answering "nothing yet". */
const quiet: Record<string, Handler> = {
  [`GET /api/v1/workflows/${WF}/notifications/`]: () => ({ body: { version: 3, notifications: [] } }),
  [`GET /api/v1/workflows/${WF}/notifications/deliveries/`]: () => ({ body: [] }),
  "GET /api/v1/credentials/": () => page([]),
  "GET /api/v1/runs/": () => page([]),
};

function renderPanel() {
  render(
    <MemoryRouter>
      <TriggersPanel
        workflowId={WF}
        workspace={WS}
        readOnly={false}
        prepare={() => Promise.resolve(3)}
        onSaved={() => {}}
        onClose={() => {}}
      />
    </MemoryRouter>,
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("triggers panel", () => {
  it("lists schedules with their next fire times and webhooks with a curl example", async () => {
    const calls = fakeApi({
      ...quiet,
      "GET /api/v1/schedules/": () => page([schedule]),
      "GET /api/v1/schedules/s-1/preview/": () => ({
        body: [{ utc: "2027-03-28T01:30:00Z", local: "2027-03-28T03:30:00+02:00" }],
      }),
      "GET /api/v1/triggers/": () => page([webhook]),
      "GET /api/v1/runs/": () =>
        page([
          {
            id: "r1234567-0000",
            workflow: WF,
            state: "succeeded",
            trigger: "webhook",
            created_at: "2027-01-02T00:00:00Z",
          },
        ]),
    });
    const writeText = vi.fn(() => Promise.resolve());
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    renderPanel();
    const times = await screen.findByTestId("next-fire-times");
    // The schedule's own timezone, and the viewer's when it differs (Berlin's 03:30 is 01:30 UTC).
    expect(times.textContent).toMatch(/03:30/);
    expect(times.textContent).toMatch(/01:30.*for you/);
    const row = await screen.findByTestId("webhook-row");
    expect(row.textContent).toContain("/hooks/tok_abcdefghijklmnopqrstuvwxyz");
    expect(row.textContent).toContain("X-Agentloom-Signature");
    expect(row.textContent).not.toContain("whsec_real");
    fireEvent.click(within(row).getByTestId("copy-curl"));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith(expect.stringContaining("openssl dgst -sha256 -hmac")));
    const lastCalls = await screen.findByTestId("webhook-calls");
    expect(lastCalls.textContent).toContain("r1234567");
    expect(calls.find((c) => c.path === "/api/v1/runs/")?.query).toContain("trigger=webhook");
  });

  it("shows a new webhook's secret once, in the curl example", async () => {
    const calls = fakeApi({
      ...quiet,
      "GET /api/v1/schedules/": () => page([]),
      "GET /api/v1/triggers/": () => page([]),
      "POST /api/v1/triggers/": () => ({ status: 201, body: { ...webhook, secret: "whsec_real" } }),
    });
    renderPanel();
    const form = await screen.findByTestId("new-webhook");
    fireEvent.change(within(form).getByLabelText("Webhook name"), { target: { value: "orders" } });
    fireEvent.submit(form);
    const secret = await screen.findByTestId("webhook-secret");
    expect(within(secret).getByTestId("curl-example").textContent).toContain("SECRET='whsec_real'");
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ workflow: WF, name: "orders", respond: "accepted" });
  });

  it("shows why a schedule was refused", async () => {
    fakeApi({
      ...quiet,
      "GET /api/v1/schedules/": () => page([]),
      "GET /api/v1/triggers/": () => page([]),
      "POST /api/v1/schedules/": () => ({
        status: 400,
        body: { code: "invalid", message: "cron: A cron expression has five fields", fields: {} },
      }),
    });
    renderPanel();
    const form = await screen.findByTestId("new-schedule");
    fireEvent.submit(form);
    expect((await screen.findByTestId("schedule-error")).textContent).toContain("five fields");
  });
});
