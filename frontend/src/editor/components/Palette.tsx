import { useReactFlow } from "@xyflow/react";
import { memo } from "react";
import { NODE_CATALOG, PALETTE_ORDER } from "../../doc/catalog";
import type { NodeType } from "../../doc/types";
import { NodeIcon } from "../../ui/NodeIcon";
import { editorStore, useEditor } from "../store";
import { PALETTE_MIME } from "./Canvas";

/** Drag a type onto the canvas, or press the item to add it in the middle of the view. */
export const Palette = memo(function Palette() {
  const readOnly = useEditor((s) => s.readOnly);
  const rf = useReactFlow();
  const addAtCenter = (type: NodeType) => {
    const el = document.querySelector(".canvas");
    const rect = el?.getBoundingClientRect();
    const center = rect ? { x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 } : { x: 400, y: 300 };
    const p = rf.screenToFlowPosition(center);
    // Nudge so repeated adds do not stack exactly.
    const n = editorStore.getState().nodes.length % 8;
    editorStore.getState().addNode(type, { x: p.x - 110 + n * 16, y: p.y - 30 + n * 16 });
  };
  return (
    <aside className="palette" aria-label="Node palette" data-testid="palette">
      <h2 className="panel-title">Nodes</h2>
      <ul>
        {PALETTE_ORDER.map((type) => {
          const info = NODE_CATALOG[type];
          return (
            <li key={type}>
              <button
                type="button"
                className="palette-item"
                draggable={!readOnly}
                disabled={readOnly}
                onDragStart={(e) => {
                  e.dataTransfer.setData(PALETTE_MIME, type);
                  e.dataTransfer.effectAllowed = "copy";
                }}
                onClick={() => addAtCenter(type)}
                data-testid={`palette-item-${type}`}
                title={`${info.description}. Drag onto the canvas, or press to add.`}
                style={{ "--node-color": info.color } as React.CSSProperties}
              >
                <NodeIcon type={type} size={14} />
                <span>
                  <span className="palette-title">{info.title}</span>
                  <span className="palette-desc">{info.description}</span>
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </aside>
  );
});
