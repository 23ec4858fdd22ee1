/** What the editor's and the run view's canvases share, so the two look and zoom alike. */
import { MarkerType } from "@xyflow/react";
import { nodeTypeInfo } from "../doc/catalog";
import { EDGE_TYPE, type FlowNode } from "../doc/convert";

export const MIN_ZOOM = 0.05;
export const MAX_ZOOM = 2;
// Module constants: React Flow compares these props by identity.
export const FIT_VIEW_OPTIONS = { padding: 0.2, maxZoom: 1 };
export const PRO_OPTIONS = { hideAttribution: true };
export const DEFAULT_EDGE_OPTIONS = {
  type: EDGE_TYPE,
  markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
};

export const minimapColor = (n: FlowNode) => nodeTypeInfo(n.data.__type ?? n.type ?? "").color;

/** The React Flow props both canvases set alike (spread first; each canvas adds its own). */
export const SHARED_FLOW_PROPS = {
  defaultEdgeOptions: DEFAULT_EDGE_OPTIONS,
  elementsSelectable: true,
  // Deleting is the editor's own shortcut (editor/actions.ts); the run view deletes nothing.
  deleteKeyCode: null,
  onlyRenderVisibleElements: true,
  minZoom: MIN_ZOOM,
  maxZoom: MAX_ZOOM,
  fitViewOptions: FIT_VIEW_OPTIONS,
  proOptions: PRO_OPTIONS,
} as const;
