import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeApi } from "../../test/fakeApi";
import { useLastRun } from "../lastRun";
import { HttpTestRequest } from "./HttpTestRequest";

const WF = "22222222-2222-2222-2222-222222222222";
const PATH = `POST /api/v1/workflows/${WF}/http-preview/`;
const cfg = { method: "GET", url: "http://127.0.0.1:9/{{ $.id }}" };

beforeEach(() => {
  useLastRun.setState({ workflowId: WF, status: "none", run: null });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("send test request", () => {
  it("sends the node's config with the sample input and shows the answer", async () => {
    const calls = fakeApi({
      [PATH]: () => ({
        body: {
          request: { method: "GET", url: "http://127.0.0.1:9/7", headers: {} },
          status: 201,
          headers: { "content-type": "application/json", authorization: "[hidden]" },
          body: '{"ok": true}',
          truncated: true,
          bytes: 40000,
        },
      }),
    });
    render(<HttpTestRequest cfg={cfg} />);
    fireEvent.change(screen.getByTestId("http-test-input"), { target: { value: '{"id": 7}' } });
    fireEvent.click(screen.getByTestId("http-test-send"));
    await waitFor(() => expect(screen.getByTestId("http-test-status").textContent).toBe("201"));
    expect(calls.at(-1)?.body).toEqual({ config: cfg, input: { id: 7 } });
    expect(screen.getByTestId("http-test-body").textContent).toBe('{"ok": true}');
    expect(screen.getByTestId("http-test-result").textContent).toContain("authorization: [hidden]");
    expect(screen.getByTestId("http-test-result").textContent).toContain("40,000 bytes");
  });

  it("shows a refusal with its code", async () => {
    fakeApi({
      [PATH]: () => ({
        status: 400,
        body: { code: "egress_refused", message: "127.0.0.1 is a private address" },
      }),
    });
    render(<HttpTestRequest cfg={cfg} />);
    fireEvent.click(screen.getByTestId("http-test-send"));
    const error = await screen.findByTestId("http-test-error");
    expect(error.textContent).toContain("egress_refused");
    expect(error.textContent).toContain("private address");
    expect(screen.queryByTestId("http-test-result")).toBeNull();
  });

  it("starts from the node's input in the last run", async () => {
    const input = { run: { topic: "boats" } };
    useLastRun.setState({ status: "ready", run: { id: "r-1", nodes: [{ node_id: "call", input }] } as never });
    const calls = fakeApi({ [PATH]: () => ({ status: 400, body: { code: "egress_refused", message: "no" } }) });
    render(<HttpTestRequest cfg={cfg} nodeId="call" />);
    expect(screen.getByText("Sample input (from the last run)")).toBeTruthy();
    fireEvent.click(screen.getByTestId("http-test-send"));
    await screen.findByTestId("http-test-error");
    expect(calls.at(-1)?.body).toEqual({ config: cfg, input });
  });

  it("cannot send before the workflow is known", () => {
    useLastRun.setState({ workflowId: null });
    render(<HttpTestRequest cfg={cfg} />);
    expect((screen.getByTestId("http-test-send") as HTMLButtonElement).disabled).toBe(true);
  });
});
