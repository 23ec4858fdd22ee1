import { BaseEdge, EdgeLabelRenderer, type EdgeProps } from "@xyflow/react";
import { memo, useContext } from "react";
import { edgeGeometry } from "../canvas/edgePath";
import type { FlowEdge } from "../doc/convert";
import { formatBytes } from "../ui/format";
import { SelectEdgeContext, useRunView } from "./context";

/** An edge on the run canvas: a dot runs along it each time a handoff crosses it. */
export const RunEdge = memo(function RunEdge(props: EdgeProps<FlowEdge>) {
  const { id, data, selected, markerEnd } = props;
  const live = useRunView((s) => s.edges[id]);
  const selectEdge = useContext(SelectEdgeContext);
  const { path, labelStyle } = edgeGeometry(props);
  const cls = `flow-edge run-edge${selected ? " is-selected" : ""}${live ? " has-handoff" : ""}`;
  return (
    <>
      <BaseEdge id={id} path={path} className={cls} {...(markerEnd ? { markerEnd } : {})} />
      {live && (
        // Keyed by the handoff count: a new handoff restarts the animation.
        <circle key={live.count} r={5} className="handoff-dot" data-testid={`edge-handoff-${id}`}>
          <animateMotion dur="0.8s" repeatCount="1" fill="freeze" path={path} />
        </circle>
      )}
      {(live || data?.label) && (
        <EdgeLabelRenderer>
          {/* The label sits on the edge's middle, where one clicks: it opens the handoff inspector too. */}
          <button
            type="button"
            className={`edge-label nopan${live ? " is-live" : ""}`}
            style={labelStyle}
            onClick={() => selectEdge?.(id)}
            title="Inspect the value that crossed this edge"
            data-testid={`edge-label-${id}`}
          >
            {data?.label ? String(data.label) : ""}
            {live
              ? `${data?.label ? " · " : ""}${formatBytes(live.bytes)}${live.count > 1 ? ` ×${live.count}` : ""}`
              : ""}
          </button>
        </EdgeLabelRenderer>
      )}
    </>
  );
});
