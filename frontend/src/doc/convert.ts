/**
 * Workflow document ⇄ React Flow conversion.
 *
 * React Flow handle ids are fixed ("in" on the target side, "out" on the source side)
 * and separate from the document's `source_handle`/`target_handle`: the document's
 * `target_handle` is the *input key* the value arrives under, which the user edits in
 * the edge panel. Every field the canvas does not understand is kept, so
 * document → flow → document is lossless.
 */
import type { Edge, Node } from "@xyflow/react";
import { isKnownType } from "./catalog";
import type { DocEdge, DocEdgeFields, DocNode, DocNodeData, DocumentMeta, WorkflowDocument } from "./types";

export const SOURCE_HANDLE_ID = "out";
export const TARGET_HANDLE_ID = "in";
export const UNKNOWN_NODE_TYPE = "unknown";
export const EDGE_TYPE = "agentloom";

export type FlowNodeData = DocNodeData & {
  /** The document type when it is not one the canvas knows. */
  __type?: string;
  /** Node-level keys of the document node other than id/type/position/data. */
  __node?: Record<string, unknown>;
};
export type FlowNode = Node<FlowNodeData>;

/** The document edge minus id/source/target. */
export type FlowEdgeData = DocEdgeFields;
export type FlowEdge = Edge<FlowEdgeData>;

export type { DocumentMeta };

export function docNodeToFlow(node: DocNode): FlowNode {
  const { id, type, position, data, ...rest } = node;
  const flowData: FlowNodeData = { ...(data ?? { label: "", config: {} }) };
  if (flowData.config == null) flowData.config = {};
  if (typeof flowData.label !== "string") flowData.label = String(flowData.label ?? "");
  const known = isKnownType(type);
  if (!known) flowData.__type = type;
  if (Object.keys(rest).length > 0) flowData.__node = rest;
  return {
    id,
    type: known ? type : UNKNOWN_NODE_TYPE,
    position: { x: Number(position?.x ?? 0), y: Number(position?.y ?? 0) },
    data: flowData,
  };
}

export function flowNodeToDoc(node: FlowNode): DocNode {
  const { __type, __node, ...data } = node.data;
  return {
    ...(__node ?? {}),
    id: node.id,
    type: __type ?? node.type ?? UNKNOWN_NODE_TYPE,
    position: { x: node.position.x, y: node.position.y },
    data: data as DocNodeData,
  };
}

export function docEdgeToFlow(edge: DocEdge): FlowEdge {
  const { id, source, target, ...rest } = edge;
  return {
    id,
    source,
    target,
    sourceHandle: SOURCE_HANDLE_ID,
    targetHandle: TARGET_HANDLE_ID,
    type: EDGE_TYPE,
    data: rest as FlowEdgeData,
  };
}

export function flowEdgeToDoc(edge: FlowEdge): DocEdge {
  return { id: edge.id, source: edge.source, target: edge.target, ...(edge.data ?? {}) };
}

export function documentToFlow(doc: WorkflowDocument): {
  meta: DocumentMeta;
  nodes: FlowNode[];
  edges: FlowEdge[];
} {
  const { nodes, edges, ...meta } = doc;
  return {
    meta,
    nodes: (nodes ?? []).map(docNodeToFlow),
    edges: (edges ?? []).map(docEdgeToFlow),
  };
}

export function flowToDocument(
  meta: DocumentMeta,
  nodes: readonly FlowNode[],
  edges: readonly FlowEdge[],
): WorkflowDocument {
  return {
    ...meta,
    nodes: nodes.map(flowNodeToDoc),
    edges: edges.map(flowEdgeToDoc),
  } as WorkflowDocument;
}

/** The input key an edge delivers under (document default: the source node id). */
export function edgeInputKey(edge: Pick<DocEdge, "source" | "target_handle">): string {
  return edge.target_handle ? edge.target_handle : edge.source;
}
