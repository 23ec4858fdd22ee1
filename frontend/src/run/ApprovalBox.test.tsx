import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Approval } from "../api/types";
import { reduceLog } from "../live/runState";
import { fakeApi, WS } from "../test/fakeApi";
import { ev } from "../test/fakes";
import { ApprovalBox } from "./ApprovalBox";
import { useApprovals } from "./approvals";
import { WaitingForYou } from "./WaitingForYou";

const RUN = "22222222-2222-2222-2222-222222222222";

function approval(over: Partial<Approval> = {}): Approval {
  return {
    id: 1,
    run: RUN,
    workflow: "w-1",
    workflow_name: "Publish",
    workspace: WS,
    node_id: "gate",
    node_label: "Gate",
    message: "Publish the post?",
    approvers: "editors",
    on_timeout: "reject",
    requested_at: "2026-01-01T00:00:00Z",
    deadline_at: "2026-01-01T00:30:00Z",
    decision: "",
    comment: "",
    decided_by: null,
    decided_at: null,
    timed_out: false,
    ...over,
  };
}

const waitingLog = [
  ev(1, "run.started", {}),
  ev(2, "node.waiting", { attempt: 1, message: "Publish the post?", approvers: "editors" }, "gate"),
];

function renderBox(events = waitingLog) {
  const live = reduceLog(["gate"], events).nodes.gate!.approval!;
  return render(
    <MemoryRouter initialEntries={[`/runs/${RUN}`]}>
      <Routes>
        <Route path="/runs/:id" element={<ApprovalBox nodeId="gate" approval={live} />} />
      </Routes>
    </MemoryRouter>,
  );
}

beforeEach(() => useApprovals.setState({ waiting: [] }));
afterEach(() => vi.unstubAllGlobals());

describe("approvals", () => {
  it("reduces waiting and decided into the node and the history", () => {
    const s = reduceLog(
      ["gate"],
      [
        ...waitingLog,
        ev(3, "node.decided", { decision: "reject", by: "ann", comment: "too long" }, "gate"),
        ev(4, "node.succeeded", { attempt: 1 }, "gate"),
      ],
    );
    expect(s.counts.waiting).toBe(0);
    expect(s.nodes.gate!.approval).toMatchObject({ decision: "reject", by: "ann", comment: "too long" });
    expect(s.logs.map((l) => l.message)).toEqual([
      "Waiting for approval: Publish the post?",
      "Rejected by ann: too long",
    ]);
    expect(reduceLog(["gate"], waitingLog).counts.waiting).toBe(1);
  });

  it("gives an approver Approve / Reject with a comment", async () => {
    const calls = fakeApi({
      "GET /api/v1/approvals/": () => ({ body: [approval()] }),
      [`POST /api/v1/runs/${RUN}/nodes/gate/decision/`]: () => ({ body: approval({ decision: "approve" }) }),
    });
    renderBox();
    expect(screen.getByTestId("approval-gate").textContent).toContain("Publish the post?");
    fireEvent.change(await screen.findByTestId("approval-comment-gate"), { target: { value: "ship it" } });
    fireEvent.click(screen.getByTestId("approve-gate"));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({ decision: "approve", comment: "ship it" });
  });

  it("shows others whom it waits for, and the count in the header", async () => {
    fakeApi({ "GET /api/v1/approvals/": () => ({ body: [] }) });
    renderBox();
    await waitFor(() => expect(screen.getByTestId("approval-gate").textContent).toContain("Waiting for"));
    expect(screen.queryByTestId("approve-gate")).toBeNull();

    fakeApi({ "GET /api/v1/approvals/": () => ({ body: [approval(), approval({ id: 2, node_id: "g2" })] }) });
    render(
      <MemoryRouter>
        <WaitingForYou />
      </MemoryRouter>,
    );
    expect((await screen.findByTestId("waiting-for-you")).textContent).toBe("2 waiting for you");
  });
});
