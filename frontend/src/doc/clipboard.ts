/** Copy/paste of a part of a workflow: fresh ids on paste, inner edges kept. */
import { idAllocator } from "./graph";
import type { DocEdge, DocNode } from "./types";

export const CLIPBOARD_KIND = "agentloom/clipboard";

export interface ClipboardPayload {
  kind: typeof CLIPBOARD_KIND;
  version: 1;
  nodes: DocNode[];
  edges: DocEdge[];
}

/** The selected nodes and the edges whose both ends are selected. */
export function copySelection(
  nodes: readonly DocNode[],
  edges: readonly DocEdge[],
  selectedIds: ReadonlySet<string>,
): ClipboardPayload {
  const picked = nodes.filter((n) => selectedIds.has(n.id));
  const inner = edges.filter((e) => selectedIds.has(e.source) && selectedIds.has(e.target));
  return {
    kind: CLIPBOARD_KIND,
    version: 1,
    nodes: structuredClone(picked),
    edges: structuredClone(inner),
  };
}

export function isClipboardPayload(value: unknown): value is ClipboardPayload {
  if (!value || typeof value !== "object") return false;
  const v = value as Partial<ClipboardPayload>;
  return v.kind === CLIPBOARD_KIND && Array.isArray(v.nodes) && Array.isArray(v.edges);
}

/**
 * Gives every pasted node and edge an id unused in `existingNodeIds`/`existingEdgeIds`,
 * remaps the inner edges, and offsets positions. An edge whose input key defaulted to
 * its source id keeps the old key explicitly, so the pasted prompts that read it still work.
 */
export function pastePayload(
  payload: ClipboardPayload,
  existingNodeIds: Iterable<string>,
  existingEdgeIds: Iterable<string>,
  offset: { x: number; y: number } = { x: 40, y: 40 },
): { nodes: DocNode[]; edges: DocEdge[]; idMap: Map<string, string> } {
  const allocNode = idAllocator(existingNodeIds);
  const allocEdge = idAllocator(existingEdgeIds, "");
  const idMap = new Map<string, string>();
  const nodes = payload.nodes.map((n) => {
    const id = allocNode(String(n.type || "node"));
    idMap.set(n.id, id);
    return {
      ...structuredClone(n),
      id,
      position: { x: (n.position?.x ?? 0) + offset.x, y: (n.position?.y ?? 0) + offset.y },
    };
  });
  const edges: DocEdge[] = [];
  for (const e of payload.edges) {
    const source = idMap.get(e.source);
    const target = idMap.get(e.target);
    if (!source || !target) continue;
    edges.push({
      ...structuredClone(e),
      id: allocEdge("e"),
      source,
      target,
      target_handle: e.target_handle ? e.target_handle : e.source,
    });
  }
  return { nodes, edges, idMap };
}
