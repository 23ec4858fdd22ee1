/** What both canvases draw around the nodes: the grid, the one-path edges when zoomed out, the minimap, zoom buttons. */
import { Background, Controls } from "@xyflow/react";
import type { FlowEdge, FlowNode } from "../doc/convert";
import { minimapColor } from "./canvasOptions";
import { FastMiniMap } from "./FastMiniMap";
import { TinyEdges } from "./lod";

export function CanvasChrome({
  nodes,
  edges,
  simple,
  problemEdges,
}: {
  nodes: FlowNode[];
  edges: FlowEdge[];
  /** Edges are drawn as one path here (see `simpleEdges`). */
  simple: boolean;
  problemEdges?: ReadonlySet<string>;
}) {
  return (
    <>
      <Background gap={20} size={1} />
      {simple && <TinyEdges nodes={nodes} edges={edges} {...(problemEdges ? { problemEdges } : {})} />}
      <FastMiniMap nodes={nodes} nodeColor={minimapColor} />
      <Controls showInteractive={false} aria-label="Zoom controls" />
    </>
  );
}
