import { act, render } from "@testing-library/react";
import { ReactFlowProvider, type NodeProps } from "@xyflow/react";
import { Profiler } from "react";
import { describe, expect, it } from "vitest";
import type { FlowNode } from "../doc/convert";
import { applyBatch, createRunViewStore } from "../live/runStore";
import { ev } from "../test/fakes";
import { RunStoreContext } from "./context";
import { RunNode } from "./RunNode";

function props(id: string): NodeProps<FlowNode> {
  return {
    id,
    type: "coder",
    data: { label: id, config: {} },
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

describe("RunNode", () => {
  it("re-renders only the node whose live state changed", () => {
    const ids = ["a", "b", "c"];
    const store = createRunViewStore(ids);
    const renders: Record<string, number> = { a: 0, b: 0, c: 0 };
    const { getByTestId } = render(
      <ReactFlowProvider>
        <RunStoreContext.Provider value={store}>
          {ids.map((id) => (
            <Profiler key={id} id={id} onRender={() => renders[id]!++}>
              <RunNode {...props(id)} />
            </Profiler>
          ))}
        </RunStoreContext.Provider>
      </ReactFlowProvider>,
    );
    const initial = { ...renders };
    act(() =>
      applyBatch(store, [
        ev(1, "node.started", { attempt: 1, worker: "w" }, "b"),
        ev(2, "node.token", { attempt: 1, delta: "hello" }, "b"),
      ]),
    );
    expect(renders.b).toBeGreaterThan(initial.b!);
    expect(renders.a).toBe(initial.a);
    expect(renders.c).toBe(initial.c);
    expect(getByTestId("node-state-b").dataset.state).toBe("running");
    expect(getByTestId("node-tokens-b").textContent).toContain("hello");
    expect(getByTestId("node-state-a").dataset.state).toBe("pending");
  });

  it("counts an agent's tool calls on its node", () => {
    const store = createRunViewStore(["a"]);
    const { getByTestId, queryByTestId } = render(
      <ReactFlowProvider>
        <RunStoreContext.Provider value={store}>
          <RunNode {...props("a")} />
        </RunStoreContext.Provider>
      </ReactFlowProvider>,
    );
    expect(queryByTestId("node-tools-a")).toBeNull();
    act(() =>
      applyBatch(store, [
        ev(1, "node.started", { attempt: 1, worker: "w" }, "a"),
        ev(2, "node.tool_call", { step: 1, call_id: "c1", name: "lookup_facts", arguments: "{}" }, "a"),
        ev(3, "node.tool_result", { step: 2, call_id: "c1", name: "lookup_facts", status: "ok" }, "a"),
        ev(4, "node.tool_call", { step: 4, call_id: "c2", name: "notes_write", arguments: "{}" }, "a"),
      ]),
    );
    expect(getByTestId("node-tools-a").textContent).toBe("2 tool calls · last: notes_write");
  });
});
