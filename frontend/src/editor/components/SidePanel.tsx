import { memo } from "react";
import { editorStore, selectedEdgeId, selectedNodeId, selectionCount, useEditor } from "../store";
import { EdgePanel } from "./EdgePanel";
import { NodePanel } from "./NodePanel";
import { WorkflowPanel } from "./WorkflowPanel";

export const SidePanel = memo(function SidePanel() {
  const nodeId = useEditor(selectedNodeId);
  const edgeId = useEditor(selectedEdgeId);
  const count = useEditor(selectionCount);
  const readOnly = useEditor((s) => s.readOnly);
  let body;
  if (count > 1) {
    body = (
      <section className="panel-section" data-testid="multi-panel">
        <h2 className="panel-title">{count} nodes selected</h2>
        <div className="toolbar-group">
          <button
            type="button"
            className="button"
            disabled={readOnly}
            onClick={() => editorStore.getState().duplicate()}
          >
            Duplicate
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={readOnly}
            onClick={() => editorStore.getState().deleteSelection()}
          >
            Delete
          </button>
        </div>
      </section>
    );
  } else if (nodeId) body = <NodePanel key={nodeId} nodeId={nodeId} />;
  else if (edgeId && count === 0) body = <EdgePanel key={edgeId} edgeId={edgeId} />;
  else body = <WorkflowPanel />;
  return (
    <aside className="side-panel" aria-label="Properties" data-testid="properties-panel">
      {body}
    </aside>
  );
});
