/** ELK layered layout, left to right. Shared by the worker and the in-thread fallback. */
import type ELK from "elkjs/lib/elk.bundled.js";
import type { ElkNode } from "elkjs/lib/elk.bundled.js";

export interface LayoutRequest {
  nodes: { id: string; width: number; height: number }[];
  edges: { id: string; source: string; target: string }[];
}
export type LayoutResult = Record<string, { x: number; y: number }>;

export const LAYOUT_OPTIONS: Record<string, string> = {
  "elk.algorithm": "layered",
  "elk.direction": "RIGHT",
  "elk.layered.spacing.nodeNodeBetweenLayers": "80",
  "elk.spacing.nodeNode": "40",
  "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
  "elk.layered.crossingMinimization.strategy": "LAYER_SWEEP",
  "elk.separateConnectedComponents": "true",
  "elk.spacing.componentComponent": "60",
};

export function toElkGraph(req: LayoutRequest): ElkNode {
  const ids = new Set(req.nodes.map((n) => n.id));
  return {
    id: "root",
    layoutOptions: LAYOUT_OPTIONS,
    children: req.nodes.map((n) => ({ id: n.id, width: n.width, height: n.height })),
    edges: req.edges
      .filter((e) => ids.has(e.source) && ids.has(e.target) && e.source !== e.target)
      .map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  };
}

export async function runLayout(elk: InstanceType<typeof ELK>, req: LayoutRequest): Promise<LayoutResult> {
  const out = await elk.layout(toElkGraph(req));
  const result: LayoutResult = {};
  for (const c of out.children ?? []) result[c.id] = { x: Math.round(c.x ?? 0), y: Math.round(c.y ?? 0) };
  return result;
}
