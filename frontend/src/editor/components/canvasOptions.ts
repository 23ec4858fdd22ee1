/** What the editor's and the run view's canvases share, so the two look and zoom alike. */
import { MarkerType } from "@xyflow/react";
import { nodeTypeInfo } from "../../doc/catalog";
import { EDGE_TYPE, type FlowNode } from "../../doc/convert";

export const MIN_ZOOM = 0.05;
export const MAX_ZOOM = 2;
// Module constants: React Flow compares these props by identity.
export const FIT_VIEW_OPTIONS = { padding: 0.2, maxZoom: 1 };
export const PRO_OPTIONS = { hideAttribution: true };
export const DEFAULT_EDGE_OPTIONS = { type: EDGE_TYPE, markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 } };

export const minimapColor = (n: FlowNode) => nodeTypeInfo(n.data.__type ?? n.type ?? "").color;
