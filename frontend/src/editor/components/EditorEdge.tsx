import { BaseEdge, EdgeLabelRenderer, type EdgeProps } from "@xyflow/react";
import { memo } from "react";
import { edgeGeometry } from "../../canvas/edgePath";
import type { FlowEdge } from "../../doc/convert";
import { useEditor } from "../store";

export const EditorEdge = memo(function EditorEdge(props: EdgeProps<FlowEdge>) {
  const { id, data, selected, markerEnd } = props;
  const problems = useEditor((s) => s.problemIndex.byEdge[id]);
  const { path, labelStyle } = edgeGeometry(props);
  const hasError = problems?.some((p) => p.severity === "error");
  const tags: string[] = [];
  if (data?.label) tags.push(String(data.label));
  if (data?.condition) tags.push("if");
  if (data?.transform) tags.push("ƒ");
  const cls = `flow-edge${selected ? " is-selected" : ""}${problems?.length ? (hasError ? " has-error" : " has-warning") : ""}`;
  return (
    <>
      <BaseEdge id={id} path={path} className={cls} {...(markerEnd ? { markerEnd } : {})} />
      {(tags.length > 0 || problems?.length) && (
        <EdgeLabelRenderer>
          <div
            className={`edge-label${problems?.length ? " has-problem" : ""}`}
            style={labelStyle}
            data-testid={`edge-label-${id}`}
            title={problems?.map((p) => p.message).join("\n")}
          >
            {problems?.length ? "! " : ""}
            {tags.join(" · ")}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
});
