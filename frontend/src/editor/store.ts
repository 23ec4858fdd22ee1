/**
 * The editor's document store: React Flow nodes/edges (controlled), the rest of the
 * document, undo/redo, selection-based clipboard, and validation problems.
 * `revision` counts document edits; the save controller watches it.
 */
import { applyEdgeChanges, applyNodeChanges, type Connection, type EdgeChange, type NodeChange } from "@xyflow/react";
import { useStore } from "zustand";
import { createStore, type StoreApi } from "zustand/vanilla";
import { NODE_CATALOG, isKnownType, nodeTypeInfo } from "../doc/catalog";
import { copySelection, isClipboardPayload, pastePayload, type ClipboardPayload } from "../doc/clipboard";
import {
  EDGE_TYPE,
  SOURCE_HANDLE_ID,
  TARGET_HANDLE_ID,
  documentToFlow,
  flowEdgeToDoc,
  flowNodeToDoc,
  flowToDocument,
  docEdgeToFlow,
  docNodeToFlow,
  type DocumentMeta,
  type FlowEdge,
  type FlowEdgeData,
  type FlowNode,
  type FlowNodeData,
} from "../doc/convert";
import { checkConnection, idAllocator, type ConnectionCheck } from "../doc/graph";
import { defaultConfig, emptyDocument } from "../doc/engine";
import { type NodeConfig, type NodeType, type Problem, type WorkflowDocument } from "../doc/types";
import { emptyHistory, record, redo as redoStep, undo as undoStep, type HistoryState } from "./history";

export interface Snapshot {
  meta: DocumentMeta;
  nodes: FlowNode[];
  edges: FlowEdge[];
}

export interface ProblemIndex {
  byNode: Record<string, Problem[]>;
  byEdge: Record<string, Problem[]>;
}

export interface EditorState extends Snapshot {
  history: HistoryState<Snapshot>;
  /** Increments on every document edit (not on selection or measuring). */
  revision: number;
  problems: Problem[];
  problemIndex: ProblemIndex;
  clipboard: ClipboardPayload | null;
  /** A transient message for the user (e.g. why a connection was refused). */
  notice: { text: string; at: number } | null;
  readOnly: boolean;
  /** True while a node drag is in progress (one undo step per drag). */
  dragging: boolean;
  /** The workflow's tags (saved with the document, outside it and outside undo). */
  tags: string[];

  loadDocument(doc: WorkflowDocument, opts?: { readOnly?: boolean; keepHistory?: boolean }): void;
  getDocument(): WorkflowDocument;
  onNodesChange(changes: NodeChange<FlowNode>[]): void;
  onEdgesChange(changes: EdgeChange<FlowEdge>[]): void;
  checkConnection(c: Pick<Connection, "source" | "target">): ConnectionCheck;
  connect(c: Pick<Connection, "source" | "target">): ConnectionCheck;
  addNode(type: NodeType, position: { x: number; y: number }): string;
  updateNode(id: string, patch: Partial<Pick<FlowNodeData, "label">>, key?: string): void;
  updateConfig(id: string, patch: Partial<NodeConfig>, key?: string): void;
  updateEdge(id: string, patch: Partial<FlowEdgeData>, key?: string): void;
  updateMeta(patch: Partial<DocumentMeta>, key?: string): void;
  setPositions(positions: Record<string, { x: number; y: number }>): void;
  deleteSelection(): void;
  deleteElements(nodeIds: string[], edgeIds: string[]): void;
  selectAll(): void;
  select(nodeIds: string[], edgeIds?: string[]): void;
  copy(): ClipboardPayload | null;
  cut(): ClipboardPayload | null;
  paste(payload?: unknown, offset?: { x: number; y: number }): string[];
  duplicate(): string[];
  undo(): void;
  redo(): void;
  setProblems(problems: Problem[]): void;
  setNotice(text: string | null): void;
  setTags(tags: string[], opts?: { silent?: boolean }): void;
}

export function indexProblems(problems: readonly Problem[]): ProblemIndex {
  const byNode: Record<string, Problem[]> = {};
  const byEdge: Record<string, Problem[]> = {};
  for (const p of problems) {
    if (p.node_id) (byNode[p.node_id] ??= []).push(p);
    if (p.edge_id) (byEdge[p.edge_id] ??= []).push(p);
    // A cycle names its path: mark every node on it.
    if (p.path && p.code.includes("cycle")) for (const id of p.path) if (id !== p.node_id) (byNode[id] ??= []).push(p);
  }
  return { byNode, byEdge };
}

function snapshot(s: Snapshot): Snapshot {
  return { meta: s.meta, nodes: s.nodes, edges: s.edges };
}

function labelMap(nodes: readonly FlowNode[]): (id: string) => string {
  const m = new Map(nodes.map((n) => [n.id, n.data.label || n.id]));
  return (id) => m.get(id) ?? id;
}

export function createEditorStore(initial: WorkflowDocument = emptyDocument()): StoreApi<EditorState> {
  const flow = documentToFlow(initial);
  return createStore<EditorState>((set, get) => {
    /** Records the current state for undo, then applies `next` as a document edit. */
    const edit = (next: Partial<Snapshot> & Partial<EditorState>, key: string | null = null) => {
      const s = get();
      if (s.readOnly) return;
      set({
        ...next,
        history: record(s.history, snapshot(s), key),
        revision: s.revision + 1,
      });
    };

    const selectedIds = () =>
      new Set(
        get()
          .nodes.filter((n) => n.selected)
          .map((n) => n.id),
      );

    const insert = (docNodes: ReturnType<typeof pastePayload>) => {
      const s = get();
      const nodes = s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n));
      const edges = s.edges.map((e) => (e.selected ? { ...e, selected: false } : e));
      for (const dn of docNodes.nodes) nodes.push({ ...docNodeToFlow(dn), selected: true });
      for (const de of docNodes.edges) edges.push({ ...docEdgeToFlow(de), selected: false });
      edit({ nodes, edges });
      return docNodes.nodes.map((n) => n.id);
    };

    return {
      ...flow,
      history: emptyHistory<Snapshot>(),
      revision: 0,
      problems: [],
      problemIndex: { byNode: {}, byEdge: {} },
      clipboard: null,
      notice: null,
      readOnly: false,
      dragging: false,
      tags: [],

      loadDocument(doc, opts = {}) {
        const f = documentToFlow(doc);
        const s = get();
        set({
          ...f,
          readOnly: opts.readOnly ?? false,
          history: opts.keepHistory ? record(s.history, snapshot(s)) : emptyHistory<Snapshot>(),
          dragging: false,
          notice: null,
          revision: opts.keepHistory ? s.revision + 1 : s.revision,
        });
      },

      getDocument() {
        const s = get();
        return flowToDocument(s.meta, s.nodes, s.edges);
      },

      onNodesChange(changes) {
        const s = get();
        let docEdit = false;
        let dragStart = false;
        let dragEnd = false;
        const allowed = s.readOnly ? changes.filter((c) => c.type === "select" || c.type === "dimensions") : changes;
        for (const c of allowed) {
          if (c.type === "position") {
            if (c.dragging && !s.dragging) dragStart = true;
            if (!c.dragging) dragEnd = true;
            if (!c.dragging && !s.dragging && c.position) docEdit = true; // keyboard move
          } else if (c.type === "remove" || c.type === "add" || c.type === "replace") docEdit = true;
        }
        if (allowed.length === 0) return;
        const nodes = applyNodeChanges(allowed, s.nodes);
        if (dragStart) {
          set({
            nodes,
            dragging: true,
            history: record(s.history, snapshot(s)),
          });
          return;
        }
        if (dragEnd && s.dragging) {
          set({ nodes, dragging: false, revision: s.revision + 1 });
          return;
        }
        if (docEdit) {
          const removed = new Set(allowed.filter((c) => c.type === "remove").map((c) => c.id));
          const edges = removed.size
            ? s.edges.filter((e) => !removed.has(e.source) && !removed.has(e.target))
            : s.edges;
          edit({ nodes, edges });
          return;
        }
        set({ nodes });
      },

      onEdgesChange(changes) {
        const s = get();
        const allowed = s.readOnly ? changes.filter((c) => c.type === "select") : changes;
        if (allowed.length === 0) return;
        const edges = applyEdgeChanges(allowed, s.edges);
        if (allowed.some((c) => c.type === "remove" || c.type === "add" || c.type === "replace")) edit({ edges });
        else set({ edges });
      },

      checkConnection(c) {
        const s = get();
        return checkConnection(s.nodes, s.edges, c.source, c.target, labelMap(s.nodes));
      },

      connect(c) {
        const s = get();
        if (s.readOnly) return { ok: false, code: "missing_node", reason: "This workflow is read-only." };
        const check = get().checkConnection(c);
        if (!check.ok) {
          set({ notice: { text: check.reason, at: Date.now() } });
          return check;
        }
        const alloc = idAllocator(
          s.edges.map((e) => e.id),
          "",
        );
        const edge: FlowEdge = {
          id: alloc("e"),
          source: c.source!,
          target: c.target!,
          sourceHandle: SOURCE_HANDLE_ID,
          targetHandle: TARGET_HANDLE_ID,
          type: EDGE_TYPE,
          data: {
            source_handle: "out",
            target_handle: c.source!,
            transform: null,
            condition: null,
            label: "",
          },
        };
        edit({ edges: [...s.edges, edge], notice: null });
        return check;
      },

      addNode(type, position) {
        const s = get();
        if (s.readOnly) return "";
        const info = NODE_CATALOG[type];
        const id = idAllocator(s.nodes.map((n) => n.id))(type);
        const n = id.slice(type.length + 1);
        const node: FlowNode = {
          id,
          type,
          position,
          data: { label: `${info.title} ${n}`, config: defaultConfig(type) },
          selected: true,
        };
        edit({
          nodes: [...s.nodes.map((x) => (x.selected ? { ...x, selected: false } : x)), node],
          edges: s.edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
        });
        return id;
      },

      updateNode(id, patch, key) {
        const s = get();
        edit({ nodes: s.nodes.map((n) => (n.id === id ? { ...n, data: { ...n.data, ...patch } } : n)) }, key ?? null);
      },

      updateConfig(id, patch, key) {
        const s = get();
        edit(
          {
            nodes: s.nodes.map((n) =>
              n.id === id ? { ...n, data: { ...n.data, config: { ...n.data.config, ...patch } } } : n,
            ),
          },
          key ?? null,
        );
      },

      updateEdge(id, patch, key) {
        const s = get();
        edit(
          {
            edges: s.edges.map((e) => (e.id === id ? { ...e, data: { ...(e.data as FlowEdgeData), ...patch } } : e)),
          },
          key ?? null,
        );
      },

      updateMeta(patch, key) {
        const s = get();
        edit({ meta: { ...s.meta, ...patch } }, key ?? null);
      },

      setPositions(positions) {
        const s = get();
        edit({
          nodes: s.nodes.map((n) => {
            const p = positions[n.id];
            return p ? { ...n, position: { x: p.x, y: p.y } } : n;
          }),
        });
      },

      deleteSelection() {
        const s = get();
        const nodeIds = s.nodes.filter((n) => n.selected).map((n) => n.id);
        const edgeIds = s.edges.filter((e) => e.selected).map((e) => e.id);
        get().deleteElements(nodeIds, edgeIds);
      },

      deleteElements(nodeIds, edgeIds) {
        if (nodeIds.length === 0 && edgeIds.length === 0) return;
        const s = get();
        const nodeSet = new Set(nodeIds);
        const edgeSet = new Set(edgeIds);
        edit({
          nodes: s.nodes.filter((n) => !nodeSet.has(n.id)),
          edges: s.edges.filter((e) => !edgeSet.has(e.id) && !nodeSet.has(e.source) && !nodeSet.has(e.target)),
        });
      },

      selectAll() {
        const s = get();
        set({
          nodes: s.nodes.map((n) => (n.selected ? n : { ...n, selected: true })),
          edges: s.edges.map((e) => (e.selected ? e : { ...e, selected: true })),
        });
      },

      select(nodeIds, edgeIds = []) {
        const s = get();
        const ns = new Set(nodeIds);
        const es = new Set(edgeIds);
        set({
          nodes: s.nodes.map((n) => (!!n.selected === ns.has(n.id) ? n : { ...n, selected: ns.has(n.id) })),
          edges: s.edges.map((e) => (!!e.selected === es.has(e.id) ? e : { ...e, selected: es.has(e.id) })),
        });
      },

      copy() {
        const s = get();
        const ids = selectedIds();
        if (ids.size === 0) return null;
        const payload = copySelection(s.nodes.map(flowNodeToDoc), s.edges.map(flowEdgeToDoc), ids);
        set({ clipboard: payload });
        return payload;
      },

      cut() {
        const payload = get().copy();
        if (payload) get().deleteSelection();
        return payload;
      },

      paste(payload, offset) {
        const s = get();
        if (s.readOnly) return [];
        const p = payload === undefined ? s.clipboard : payload;
        if (!isClipboardPayload(p) || p.nodes.length === 0) return [];
        const pasted = pastePayload(
          p,
          s.nodes.map((n) => n.id),
          s.edges.map((e) => e.id),
          offset,
        );
        return insert(pasted);
      },

      duplicate() {
        const payload = get().copy();
        return payload ? get().paste(payload) : [];
      },

      undo() {
        const s = get();
        if (s.readOnly) return;
        const r = undoStep(s.history, snapshot(s));
        if (!r) return;
        set({ ...r.state, history: r.history, revision: s.revision + 1, dragging: false });
      },

      redo() {
        const s = get();
        if (s.readOnly) return;
        const r = redoStep(s.history, snapshot(s));
        if (!r) return;
        set({ ...r.state, history: r.history, revision: s.revision + 1, dragging: false });
      },

      setProblems(problems) {
        set({ problems, problemIndex: indexProblems(problems) });
      },

      setNotice(text) {
        set({ notice: text ? { text, at: Date.now() } : null });
      },

      setTags(tags, opts = {}) {
        const s = get();
        if (s.readOnly && !opts.silent) return;
        set(opts.silent ? { tags } : { tags, revision: s.revision + 1 });
      },
    };
  });
}

/** The app's editor (one editor page at a time). */
export const editorStore = createEditorStore();

export function useEditor<T>(selector: (s: EditorState) => T): T {
  return useStore(editorStore, selector);
}

/** The id of the single selected node, if exactly one node and no edge is selected. */
export function selectedNodeId(s: EditorState): string | null {
  let found: string | null = null;
  for (const n of s.nodes) {
    if (!n.selected) continue;
    if (found !== null) return null;
    found = n.id;
  }
  return found;
}

export function selectedEdgeId(s: EditorState): string | null {
  let found: string | null = null;
  for (const e of s.edges) {
    if (!e.selected) continue;
    if (found !== null) return null;
    found = e.id;
  }
  return found;
}

export function selectionCount(s: EditorState): number {
  let n = 0;
  for (const x of s.nodes) if (x.selected) n++;
  return n;
}

export { isKnownType, nodeTypeInfo };
