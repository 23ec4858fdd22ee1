import { memo, type ReactNode } from "react";
import { nodeTypeInfo } from "../doc/catalog";
import { SOURCE_HANDLE_ID, TARGET_HANDLE_ID } from "../doc/convert";
import { NodeIcon } from "../ui/NodeIcon";

export interface NodeShellProps {
  id: string;
  type: string;
  label: string;
  subtitle?: string | undefined;
  selected?: boolean | undefined;
  className?: string | undefined;
  badge?: ReactNode;
  children?: ReactNode;
  state?: string | undefined;
}

/** The common body of a canvas node: icon, label, type, a badge slot and content. */
export const NodeShell = memo(function NodeShell({
  id,
  type,
  label,
  subtitle,
  selected,
  className,
  badge,
  children,
  state,
}: NodeShellProps) {
  const info = nodeTypeInfo(type);
  return (
    <div
      className={`flow-node${selected ? " is-selected" : ""}${className ? ` ${className}` : ""}`}
      style={{ "--node-color": info.color } as React.CSSProperties}
      data-testid={`node-${id}`}
      data-node-type={type}
      data-state={state}
    >
      <div className="flow-node-head">
        <NodeIcon type={type} size={14} />
        <div className="flow-node-titles">
          <div className="flow-node-label" title={label}>
            {label || id}
          </div>
          <div className="flow-node-sub">{subtitle ?? info.title}</div>
        </div>
        {badge}
      </div>
      {children}
    </div>
  );
});

/**
 * Handles of a zoomed-out node: plain elements with React Flow's classes and data attributes, so it
 * measures them as usual (edges keep their ends), without the store subscriptions of <Handle>. They
 * are hidden (CSS), so nothing can be connected from that far out: zoom in to connect.
 */
export function StaticHandles({ nodeId, target, source }: { nodeId: string; target: boolean; source: boolean }) {
  return (
    <>
      {target && <StaticHandle nodeId={nodeId} kind="target" />}
      {source && <StaticHandle nodeId={nodeId} kind="source" />}
    </>
  );
}

/** The target handle sits on the left, the source on the right, with the ids of the real ones. */
function StaticHandle({ nodeId, kind }: { nodeId: string; kind: "target" | "source" }) {
  const [side, handleId] = kind === "target" ? ["left", TARGET_HANDLE_ID] : ["right", SOURCE_HANDLE_ID];
  return (
    <div
      className={`react-flow__handle react-flow__handle-${side} ${kind} static-handle`}
      data-handleid={handleId}
      data-nodeid={nodeId}
      data-handlepos={side}
    />
  );
}

/** The zoomed-out body: a coloured box with the label, nothing else to lay out or paint. */
export const FarNode = memo(function FarNode({
  id,
  color,
  label,
  selected,
  state,
}: {
  id: string;
  color: string;
  label: string;
  selected?: boolean | undefined;
  state?: string | undefined;
}) {
  return (
    <div
      className={`flow-node flow-node-far${selected ? " is-selected" : ""}${state ? ` run-node state-${state}` : ""}`}
      style={{ "--node-color": color } as React.CSSProperties}
      data-testid={`node-${id}`}
      data-state={state}
    >
      {label || id}
    </div>
  );
});
