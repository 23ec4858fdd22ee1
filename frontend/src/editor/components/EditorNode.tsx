import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import { nodeTypeInfo } from "../../doc/catalog";
import { SOURCE_HANDLE_ID, TARGET_HANDLE_ID, type FlowNode } from "../../doc/convert";
import { useEditor } from "../store";
import { useFarZoom } from "../../canvas/lod";
import { FarNode, NodeShell, StaticHandles } from "../../canvas/NodeShell";

function ProblemBadge({ id }: { id: string }) {
  const problems = useEditor((s) => s.problemIndex.byNode[id]);
  if (!problems || problems.length === 0) return null;
  const errors = problems.filter((p) => p.severity === "error").length;
  const title = problems.map((p) => `${p.severity}: ${p.message}`).join("\n");
  return (
    <span
      className={`problem-badge ${errors ? "is-error" : "is-warning"}`}
      title={title}
      aria-label={`${problems.length} problem${problems.length > 1 ? "s" : ""}: ${title}`}
      data-testid={`node-problems-${id}`}
    >
      {errors ? "!" : "⚠"} {problems.length}
    </span>
  );
}

/** A node on the editing canvas. Re-renders only when its own node object changes. */
export const EditorNode = memo(function EditorNode({ id, type, data, selected }: NodeProps<FlowNode>) {
  const far = useFarZoom();
  const docType = data.__type ?? type;
  const info = nodeTypeInfo(docType);
  if (far) {
    return (
      <>
        <FarNode id={id} color={info.color} label={data.label} selected={selected} />
        <StaticHandles nodeId={id} target={info.hasTarget} source={info.hasSource} />
      </>
    );
  }
  const cfg = data.config ?? {};
  const subtitle =
    docType === "transformer"
      ? cfg.expression
        ? `ƒ ${String(cfg.expression).slice(0, 28)}`
        : info.title
      : info.agent
        ? `${info.title} · ${cfg.model ?? "default model"}`
        : data.__type
          ? `Unknown type “${data.__type}”`
          : info.title;
  return (
    <>
      {info.hasTarget && <Handle type="target" position={Position.Left} id={TARGET_HANDLE_ID} />}
      <NodeShell
        id={id}
        type={docType}
        label={data.label}
        subtitle={subtitle}
        selected={selected}
        badge={<ProblemBadge id={id} />}
      />
      {info.hasSource && <Handle type="source" position={Position.Right} id={SOURCE_HANDLE_ID} />}
    </>
  );
});
