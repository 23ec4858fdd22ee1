import { useReactFlow } from "@xyflow/react";
import { useState } from "react";
import { editorStore, useEditor } from "../store";

/** Every validation problem; clicking one selects and centres what it names. */
export function ProblemsList() {
  const problems = useEditor((s) => s.problems);
  const [open, setOpen] = useState(true);
  const rf = useReactFlow();
  const errors = problems.filter((p) => p.severity === "error").length;
  const warnings = problems.length - errors;

  const focus = (nodeId?: string | null, edgeId?: string | null) => {
    const st = editorStore.getState();
    if (nodeId && st.nodes.some((n) => n.id === nodeId)) {
      st.select([nodeId]);
      void rf.fitView({ nodes: [{ id: nodeId }], duration: 300, maxZoom: 1.2 });
    } else if (edgeId) {
      const e = st.edges.find((x) => x.id === edgeId);
      if (e) {
        st.select([], [edgeId]);
        void rf.fitView({ nodes: [{ id: e.source }, { id: e.target }], duration: 300, maxZoom: 1.2 });
      }
    }
  };

  return (
    <section className={`problems${open ? " is-open" : ""}`} data-testid="problems-list" aria-label="Problems">
      <button type="button" className="problems-toggle" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        <span className={errors ? "count-error" : "count-ok"} data-testid="problems-error-count">
          {errors} error{errors === 1 ? "" : "s"}
        </span>
        <span className={warnings ? "count-warning" : "count-ok"}>
          {warnings} warning{warnings === 1 ? "" : "s"}
        </span>
        <span className="muted small">{open ? "Hide" : "Show"} problems</span>
      </button>
      {open && problems.length > 0 && (
        <ul>
          {problems.map((p, i) => (
            <li key={i}>
              <button
                type="button"
                className={`problem-item is-${p.severity}`}
                onClick={() => focus(p.node_id, p.edge_id)}
                data-testid="problem-item"
              >
                <span className="problem-sev">{p.severity}</span>
                <span className="mono small">{p.code}</span>
                <span>{p.message}</span>
                {(p.node_id || p.edge_id) && <span className="muted small mono">{p.node_id ?? p.edge_id}</span>}
                {p.path && p.path.length > 0 && <span className="muted small mono">{p.path.join(" → ")}</span>}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
