/**
 * Levels of detail, by zoom, so a 1,000-node graph stays smooth when it is all in view.
 *
 * * near (zoom ≥ 0.45): full nodes with their handles, edges with arrowheads and hit paths.
 * * far (< 0.45): nodes are plain coloured boxes with their label (much smaller DOM) whose handles
 *   are measurement-only. In the editor the edges are not React Flow edges any more but one SVG
 *   path drawn under the nodes (`TinyEdges`): hundreds of edge components, each re-running a store
 *   selector on every pan frame, cost more than the rest of the frame. (The run view keeps them
 *   down to the tiny level, for the handoff animations of a few hundred nodes at fit view.)
 * * tiny (< 0.2): boxes without text or borders; edges as one path in the run view too.
 *
 * The canvas subscribes to the level once (`useLodFromStore`) and hands it down by context and as
 * a `lod-*` class (the CSS part), so a node re-renders only when the level flips, never on a pan.
 */
import {
  Position,
  ViewportPortal,
  getBezierPath,
  useStore,
  type Edge,
  type Node,
  type ReactFlowState,
} from "@xyflow/react";
import { createContext, memo, useContext, useMemo } from "react";

const FAR_ZOOM = 0.45;
const TINY_ZOOM = 0.2;

export type Lod = "near" | "far" | "tiny";

const lodSelector = (s: ReactFlowState): Lod =>
  s.transform[2] < TINY_ZOOM ? "tiny" : s.transform[2] < FAR_ZOOM ? "far" : "near";

/** The level of detail of the enclosing React Flow (use it once per canvas, above <ReactFlow>). */
export function useLodFromStore(): Lod {
  return useStore(lodSelector);
}

export const LodContext = createContext<Lod>("near");

/** True when zoomed out (far or tiny): nodes render their plain body. */
export function useFarZoom(): boolean {
  return useContext(LodContext) !== "near";
}

const NO_EDGES: never[] = [];
/** Whether edges are drawn as one path (TinyEdges) at this level: below `from` ("far" or "tiny"). */
export function simpleEdges(lod: Lod, from: "far" | "tiny"): boolean {
  return lod === "tiny" || (from === "far" && lod === "far");
}
/** The edges to give React Flow: none when TinyEdges draws them. */
export function edgesForLod<E extends Edge>(edges: E[], simple: boolean): E[] {
  return simple ? (NO_EDGES as E[]) : edges;
}

const HANDLE_OUT = 5; // React Flow's handle centre sits on the border; its edges end 5 px outside

/** Every edge as one path (bezier like React Flow's default edge), under the nodes; not interactive. */
export const TinyEdges = memo(function TinyEdges({
  nodes,
  edges,
  problemEdges,
}: {
  nodes: readonly Node[];
  edges: readonly Edge[];
  problemEdges?: ReadonlySet<string>;
}) {
  const paths = useMemo(() => {
    const byId = new Map(nodes.map((n) => [n.id, n]));
    let ok = "";
    let bad = "";
    for (const e of edges) {
      const s = byId.get(e.source);
      const t = byId.get(e.target);
      if (!s || !t) continue;
      const sw = s.measured?.width ?? 220;
      const sh = s.measured?.height ?? 52;
      const th = t.measured?.height ?? 52;
      const [d] = getBezierPath({
        sourceX: s.position.x + sw + HANDLE_OUT,
        sourceY: s.position.y + sh / 2,
        sourcePosition: Position.Right,
        targetX: t.position.x - HANDLE_OUT,
        targetY: t.position.y + th / 2,
        targetPosition: Position.Left,
      });
      if (problemEdges?.has(e.id)) bad += d;
      else ok += d;
    }
    return { ok, bad };
  }, [nodes, edges, problemEdges]);
  return (
    <ViewportPortal>
      <svg className="tiny-edges" aria-hidden="true" data-testid="tiny-edges">
        <path d={paths.ok} className="flow-edge" />
        {paths.bad && <path d={paths.bad} className="flow-edge has-error" />}
      </svg>
    </ViewportPortal>
  );
});
