/** The geometry both canvases' edges draw: a bezier between the handles, a label on its middle. */
import { getBezierPath, type EdgeProps } from "@xyflow/react";
import type { CSSProperties } from "react";
import type { FlowEdge } from "../doc/convert";

export interface EdgeGeometry {
  path: string;
  /** Centres a label (rendered in `EdgeLabelRenderer`) on the edge's middle. */
  labelStyle: CSSProperties;
}

export function edgeGeometry(p: EdgeProps<FlowEdge>): EdgeGeometry {
  const [path, x, y] = getBezierPath({
    sourceX: p.sourceX,
    sourceY: p.sourceY,
    targetX: p.targetX,
    targetY: p.targetY,
    sourcePosition: p.sourcePosition,
    targetPosition: p.targetPosition,
  });
  return { path, labelStyle: { transform: `translate(-50%, -50%) translate(${x}px, ${y}px)` } };
}
