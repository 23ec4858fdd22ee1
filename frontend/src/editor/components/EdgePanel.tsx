import { useId } from "react";
import { PanelProblems } from "../../ui/forms";
import { edgeInputKey } from "../../doc/convert";
import { editorStore, useEditor } from "../store";
import { ExpressionPreview } from "./ExpressionPreview";
import { Field } from "./fields";

export function EdgePanel({ edgeId }: { edgeId: string }) {
  const edge = useEditor((s) => s.edges.find((e) => e.id === edgeId));
  const readOnly = useEditor((s) => s.readOnly);
  const problems = useEditor((s) => s.problemIndex.byEdge[edgeId]);
  const sourceLabel = useEditor((s) =>
    edge ? (s.nodes.find((n) => n.id === edge.source)?.data.label ?? edge.source) : "",
  );
  const targetLabel = useEditor((s) =>
    edge ? (s.nodes.find((n) => n.id === edge.target)?.data.label ?? edge.target) : "",
  );
  const sourceIsInput = useEditor((s) =>
    edge ? (s.nodes.find((n) => n.id === edge.source)?.type ?? "") === "input" : false,
  );
  const ids = { label: useId(), handle: useId(), transform: useId(), condition: useId() };
  if (!edge) return null;
  const d = edge.data ?? {};
  const st = editorStore.getState();
  const set = (patch: Record<string, unknown>, field: string) => st.updateEdge(edgeId, patch, `${edgeId}:${field}`);
  return (
    <section className="panel-section" data-testid="edge-panel" aria-labelledby={`${ids.label}-h`}>
      <h2 className="panel-title" id={`${ids.label}-h`}>
        Edge <span className="muted mono small">{edgeId}</span>
      </h2>
      <p className="small">
        <strong>{sourceLabel}</strong> → <strong>{targetLabel}</strong>
      </p>
      <PanelProblems problems={problems} testId="edge-panel-problems" />
      <fieldset disabled={readOnly} className="plain">
        <Field label="Label" htmlFor={ids.label} hint="A coordinator names the edges to take by their label.">
          <input
            id={ids.label}
            value={String(d.label ?? "")}
            onChange={(e) => set({ label: e.target.value }, "label")}
            data-testid="edge-label"
          />
        </Field>
        <Field
          label="Input key (target handle)"
          htmlFor={ids.handle}
          hint={`The value arrives in the target’s input under this key. Empty: “${edge.source}”.`}
        >
          <input
            id={ids.handle}
            className="mono"
            value={String(d.target_handle ?? "")}
            placeholder={edgeInputKey({ source: edge.source, target_handle: null })}
            onChange={(e) => set({ target_handle: e.target.value || null }, "target_handle")}
            data-testid="edge-target-handle"
          />
        </Field>
        <Field
          label="Transform (JSONata; reshapes the value crossing the edge)"
          htmlFor={ids.transform}
          hint={
            sourceIsInput
              ? "Evaluated against the run inputs object, e.g. topic."
              : "Evaluated against the source node’s output object, e.g. text or json.field."
          }
        >
          <textarea
            id={ids.transform}
            className="mono"
            rows={3}
            value={String(d.transform ?? "")}
            placeholder="e.g. text"
            spellCheck={false}
            onChange={(e) => set({ transform: e.target.value || null }, "transform")}
            data-testid="edge-transform"
          />
        </Field>
        {d.transform ? (
          <ExpressionPreview
            expression={String(d.transform)}
            mode="value"
            source={{ kind: "nodeOutput", nodeId: edge.source }}
            sourceIsInputNode={sourceIsInput}
          />
        ) : null}
        <Field label="Condition (JSONata → boolean; the edge is taken when true)" htmlFor={ids.condition}>
          <textarea
            id={ids.condition}
            className="mono"
            rows={2}
            value={String(d.condition ?? "")}
            placeholder='e.g. json.verdict = "approve"'
            spellCheck={false}
            onChange={(e) => set({ condition: e.target.value || null }, "condition")}
            data-testid="edge-condition"
          />
        </Field>
        {d.condition ? (
          <ExpressionPreview
            expression={String(d.condition)}
            mode="condition"
            source={{ kind: "nodeOutput", nodeId: edge.source }}
            sourceIsInputNode={sourceIsInput}
          />
        ) : null}
      </fieldset>
    </section>
  );
}
