import { render } from "@testing-library/react";
import { ReactFlowProvider, type Node } from "@xyflow/react";
import { describe, expect, it } from "vitest";
import { FastMiniMap } from "./FastMiniMap";
import { edgesForLod, LodContext, simpleEdges } from "./lod";
import { EditorNode } from "../editor/components/EditorNode";
import type { FlowNode } from "../doc/convert";
import type { NodeProps } from "@xyflow/react";

describe("levels of detail", () => {
  it("gives React Flow no edges where one path draws them", () => {
    const edges = [{ id: "e1", source: "a", target: "b" }];
    expect(simpleEdges("near", "far")).toBe(false);
    expect(simpleEdges("far", "far")).toBe(true);
    expect(simpleEdges("far", "tiny")).toBe(false);
    expect(simpleEdges("tiny", "tiny")).toBe(true);
    expect(edgesForLod(edges, false)).toBe(edges);
    expect(edgesForLod(edges, true)).toEqual([]);
  });

  it("renders a zoomed-out node with measurement-only handles", () => {
    const props = {
      id: "coder-1",
      type: "coder",
      data: { label: "C", config: {} },
      selected: false,
    } as NodeProps<FlowNode>;
    const { container } = render(
      <ReactFlowProvider>
        <LodContext.Provider value="far">
          <EditorNode {...props} />
        </LodContext.Provider>
      </ReactFlowProvider>,
    );
    expect(container.querySelector(".flow-node-far")?.textContent).toBe("C");
    const source = container.querySelector(".react-flow__handle.source");
    const target = container.querySelector(".react-flow__handle.target");
    expect([source?.getAttribute("data-handleid"), source?.getAttribute("data-handlepos")]).toEqual(["out", "right"]);
    expect([target?.getAttribute("data-handleid"), target?.getAttribute("data-handlepos")]).toEqual(["in", "left"]);
  });
});

describe("FastMiniMap", () => {
  it("draws every node in one path per colour, the selection in one more", () => {
    const nodes: Node[] = Array.from({ length: 300 }, (_, i) => ({
      id: `n${i}`,
      type: i % 2 ? "coder" : "reviewer",
      position: { x: i * 10, y: 0 },
      data: {},
      selected: i === 7,
    }));
    const colour = (n: Node) => (n.type === "coder" ? "#0a0" : "#a00");
    const { container } = render(
      <ReactFlowProvider>
        <FastMiniMap nodes={nodes} nodeColor={colour} />
      </ReactFlowProvider>,
    );
    const paths = [...container.querySelectorAll("svg path")];
    // two colours + the selection + the view mask
    expect(paths).toHaveLength(4);
    expect(paths[0]!.getAttribute("d")!.match(/M/g)).toHaveLength(150);
    expect(container.querySelector("svg")?.getAttribute("aria-label")).toBe("Minimap");
  });
});
