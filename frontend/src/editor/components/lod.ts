import { useStore, type ReactFlowState } from "@xyflow/react";

/** Below this zoom, nodes render as plain coloured boxes (level of detail). */
export const FAR_ZOOM = 0.45;

const farSelector = (s: ReactFlowState) => s.transform[2] < FAR_ZOOM;

/** True when zoomed out far; a node re-renders only when this flips, not on every pan. */
export function useFarZoom(): boolean {
  return useStore(farSelector);
}
