import { act, fireEvent, render, screen } from "@testing-library/react";
import { ReactFlowProvider, type NodeProps } from "@xyflow/react";
import { MemoryRouter, Route, Routes, useParams } from "react-router";
import { describe, expect, it } from "vitest";
import type { FlowNode } from "../doc/convert";
import { applyEvents, initialRunViewState, reduceLog, type ChildRunLive } from "../live/runState";
import { applyBatch, createRunViewStore } from "../live/runStore";
import { ev } from "../test/fakes";
import { CHILD_ROWS, shownChildren } from "./ChildRuns";
import { RunStoreContext } from "./context";
import { RunNode } from "./RunNode";

const PARENT = "22222222-2222-2222-2222-222222222222";
const child = (i: number) => `c0000000-0000-0000-0000-${String(i).padStart(12, "0")}`;

const mapLog = [
  ev(1, "run.started", {}),
  ev(2, "node.waiting", { attempt: 1, kind: "children", workflow: "w", max_parallel: 2 }, "m"),
  ev(3, "node.progress", { done: 0, total: 3, failed: 0 }, "m"),
  ev(4, "node.child", { child_run_id: child(0), index: 0, state: "queued" }, "m"),
  ev(5, "node.child", { child_run_id: child(1), index: 1, state: "queued" }, "m"),
  ev(
    6,
    "node.child",
    { child_run_id: child(1), index: 1, state: "failed", error: { code: "x", message: "boom" } },
    "m",
  ),
  ev(7, "node.progress", { done: 1, total: 3, failed: 1 }, "m"),
  ev(8, "node.child", { child_run_id: child(2), index: 2, state: "queued" }, "m"),
  ev(9, "node.child", { child_run_id: child(0), index: 0, state: "succeeded" }, "m"),
  ev(10, "node.progress", { done: 2, total: 3, failed: 1 }, "m"),
];

describe("child runs in the run state", () => {
  it("folds a map's children and progress into its node", () => {
    const s = reduceLog(["m"], mapLog);
    const m = s.nodes.m!;
    expect(m.state).toBe("waiting");
    expect(m.approval).toBeNull();
    expect(m.progress).toEqual({ done: 2, total: 3, failed: 1 });
    expect(m.children).toEqual([
      { runId: child(0), step: 0, state: "succeeded", error: null },
      { runId: child(1), step: 1, state: "failed", error: { code: "x", message: "boom" } },
      { runId: child(2), step: 2, state: "queued", error: null },
    ]);
    expect(s.logs.map((l) => l.message)).toEqual(["Waiting for child runs", "Item 1 failed: boom"]);
  });

  it("keeps a workflow node's iterations in order, and an ended child ended", () => {
    const s = reduceLog(
      ["w"],
      [
        ev(1, "node.waiting", { attempt: 1, kind: "children", workflow: "x", max_iterations: 3 }, "w"),
        ev(2, "node.child", { child_run_id: child(2), iteration: 2, state: "queued" }, "w"),
        ev(3, "node.child", { child_run_id: child(1), iteration: 1, state: "succeeded" }, "w"),
        // A late start report of an ended child changes nothing.
        ev(4, "node.child", { child_run_id: child(1), iteration: 1, state: "running" }, "w"),
        ev(5, "node.child", { child_run_id: child(2), iteration: 2, state: "succeeded" }, "w"),
        ev(6, "node.succeeded", { attempt: 1 }, "w"),
      ],
    );
    expect(s.nodes.w!.children!.map((c) => [c.step, c.state])).toEqual([
      [1, "succeeded"],
      [2, "succeeded"],
    ]);
    expect(s.nodes.w!.state).toBe("succeeded");
    expect(s.nodes.w!.progress).toBeNull();
  });

  it("copies a node's children once per batch and never changes an earlier state", () => {
    const first = applyEvents(initialRunViewState(["m"]), mapLog.slice(0, 5));
    const before = first.nodes.m!.children!;
    const snapshot = structuredClone(before);
    const next = applyEvents(first, mapLog.slice(5));
    expect(before).toEqual(snapshot);
    expect(next.nodes.m!.children).not.toBe(before);
    expect(next.nodes.m!.children).toHaveLength(3);
  });

  it("lists the failed and running children of a long map first, in item order", () => {
    const runs: ChildRunLive[] = Array.from({ length: 300 }, (_, i) => ({
      runId: child(i),
      step: i,
      state: i === 250 ? "failed" : i >= 280 ? "running" : "succeeded",
      error: null,
    }));
    const shown = shownChildren(runs);
    expect(shown).toHaveLength(CHILD_ROWS);
    expect(shown.map((c) => c.step).slice(-21)).toEqual([250, ...Array.from({ length: 20 }, (_, i) => 280 + i)]);
    expect(shown.map((c) => c.step)).toEqual([...shown.map((c) => c.step)].sort((a, b) => a - b));
  });
});

function mapNode(): NodeProps<FlowNode> {
  return {
    id: "m",
    type: "map",
    data: { label: "Each topic", config: {} },
    selected: false,
    dragging: false,
    draggable: false,
    selectable: true,
    deletable: false,
    isConnectable: false,
    zIndex: 0,
    positionAbsoluteX: 0,
    positionAbsoluteY: 0,
  } as NodeProps<FlowNode>;
}

function OpenedRun() {
  return <div data-testid="opened-run">{useParams().id}</div>;
}

describe("a map node on the run canvas", () => {
  it("shows progress live and opens a child run in the run view", () => {
    const store = createRunViewStore(["m"]);
    render(
      <MemoryRouter initialEntries={[`/runs/${PARENT}`]}>
        <Routes>
          <Route
            path={`/runs/${PARENT}`}
            element={
              <ReactFlowProvider>
                <RunStoreContext.Provider value={store}>
                  <RunNode {...mapNode()} />
                </RunStoreContext.Provider>
              </ReactFlowProvider>
            }
          />
          <Route path="/runs/:id" element={<OpenedRun />} />
        </Routes>
      </MemoryRouter>,
    );
    expect(screen.queryByTestId("child-runs-m")).toBeNull();
    act(() => applyBatch(store, mapLog.slice(0, 7)));
    expect(screen.getByTestId("node-progress-m").textContent).toBe("1 / 3 (1 failed)");
    act(() => applyBatch(store, mapLog.slice(7)));
    expect(screen.getByTestId("node-progress-m").textContent).toBe("2 / 3 (1 failed)");
    expect(screen.getByTestId("child-run-m-1").dataset.state).toBe("failed");
    const link = screen.getByRole("link", { name: "Item 1" });
    expect(link.getAttribute("href")).toBe(`/runs/${child(1)}`);
    fireEvent.click(link);
    expect(screen.getByTestId("opened-run").textContent).toBe(child(1));
  });
});
