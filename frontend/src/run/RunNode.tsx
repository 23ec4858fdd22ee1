import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import { nodeTypeInfo } from "../doc/catalog";
import { SOURCE_HANDLE_ID, TARGET_HANDLE_ID, type FlowNode } from "../doc/convert";
import { useFarZoom } from "../canvas/lod";
import { FarNode, NodeShell, StaticHandles } from "../canvas/NodeShell";
import { formatDuration } from "../ui/format";
import { ApprovalBox } from "./ApprovalBox";
import { ChildRuns } from "./ChildRuns";
import { useRunView } from "./context";

const TAIL = 280;

/**
 * A node on the run canvas. It subscribes to its own live state only, so a token for
 * one node re-renders that node and nothing else.
 */
export const RunNode = memo(function RunNode({ id, type, data, selected }: NodeProps<FlowNode>) {
  const far = useFarZoom();
  const docType = data.__type ?? type;
  const info = nodeTypeInfo(docType);
  // Zoomed out, only the state matters: subscribe to it alone, so tokens do not re-render.
  return far ? (
    <FarRunNode
      id={id}
      color={info.color}
      label={data.label}
      selected={selected}
      hasTarget={info.hasTarget}
      hasSource={info.hasSource}
    />
  ) : (
    <NearRunNode id={id} docType={docType} label={data.label} selected={selected} />
  );
});

const FarRunNode = memo(function FarRunNode({
  id,
  color,
  label,
  selected,
  hasTarget,
  hasSource,
}: {
  id: string;
  color: string;
  label: string;
  selected: boolean;
  hasTarget: boolean;
  hasSource: boolean;
}) {
  const state = useRunView((s) => s.nodes[id]?.state ?? "pending");
  return (
    <>
      <FarNode id={id} color={color} label={label} selected={selected} state={state} />
      <span className="sr-only" data-testid={`node-state-${id}`} data-state={state}>
        {state}
      </span>
      <StaticHandles nodeId={id} target={hasTarget} source={hasSource} />
    </>
  );
});

const NearRunNode = memo(function NearRunNode({
  id,
  docType,
  label,
  selected,
}: {
  id: string;
  docType: string;
  label: string;
  selected: boolean;
}) {
  const live = useRunView((s) => s.nodes[id]);
  const info = nodeTypeInfo(docType);
  const state = live?.state ?? "pending";
  const text = live?.text ?? "";
  // Agents keep their text area from the start, at a fixed height: a node that grew with each token
  // made React Flow re-measure it (and re-route its edges) on every frame of a run.
  const showText = info.agent || (text.length > 0 && (state === "running" || state === "retrying"));
  return (
    <>
      {info.hasTarget && <Handle type="target" position={Position.Left} id={TARGET_HANDLE_ID} isConnectable={false} />}
      <NodeShell
        id={id}
        type={docType}
        label={label}
        selected={selected}
        state={state}
        className={`run-node state-${state}`}
        subtitle={
          live?.worker && (state === "running" || state === "retrying")
            ? `${info.title} · ${live.worker}`
            : live?.durationMs != null
              ? `${info.title} · ${formatDuration(live.durationMs)}`
              : info.title
        }
        badge={
          <span className={`state-badge state-${state}`} data-testid={`node-state-${id}`} data-state={state}>
            {state}
            {live && live.attempt > 1 ? ` ·${live.attempt}` : ""}
          </span>
        }
      >
        {showText && (
          <div className={`node-tokens${info.agent ? " node-tokens-fixed" : ""}`} data-testid={`node-tokens-${id}`}>
            {text.length > TAIL ? `…${text.slice(-TAIL)}` : text}
            {state === "running" && <span className="caret" aria-hidden="true" />}
          </div>
        )}
        {live?.error && (state === "failed" || state === "retrying") && (
          <div className="node-error" title={live.error.message}>
            {live.error.code}: {live.error.message}
          </div>
        )}
        {state === "skipped" && live?.skipReason && <div className="node-note">{live.skipReason}</div>}
        {live && live.toolCalls > 0 && (
          <div className="node-note" data-testid={`node-tools-${id}`}>
            {live.toolCalls} tool call{live.toolCalls === 1 ? "" : "s"} · last:{" "}
            <span className="mono">{live.lastTool}</span>
          </div>
        )}
        {live?.approval && <ApprovalBox nodeId={id} approval={live.approval} />}
        {live?.children && (
          <ChildRuns nodeId={id} isMap={docType === "map"} runs={live.children} progress={live.progress} />
        )}
      </NodeShell>
      {info.hasSource && <Handle type="source" position={Position.Right} id={SOURCE_HANDLE_ID} isConnectable={false} />}
    </>
  );
});
