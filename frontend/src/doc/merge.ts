/**
 * Three-way merge of workflow documents, for the save-conflict dialog's "Merge both".
 *
 * `base` is the version my edits started from, `theirs` the version saved meanwhile, `mine` my
 * unsaved document. Every change either side made is kept:
 *
 * * Nodes and edges are matched by id. Added on one side → added. Removed on one side and untouched
 *   on the other → removed; removed on one side but changed on the other → kept (the change wins).
 * * Both sides added the same id with different content (two people dropping a "coder" get
 *   `coder-1` each) → mine gets a fresh id, and my edges to it follow.
 * * Objects (a node's data, config, the settings, the inputs) merge key by key, recursively; only
 *   a value both sides changed differently is a conflict, and there mine wins (theirs stays in the
 *   version history). Every such place is listed in `conflicts`.
 * * Edges left without an end (their node was removed) are dropped and listed.
 */
import { canonical } from "./diff";
import { idAllocator } from "./graph";
import type { DocEdge, DocNode, WorkflowDocument } from "./types";

export interface MergeResult {
  document: WorkflowDocument;
  /** Places both sides changed differently (mine kept), e.g. `node reviewer-1: data.config.prompt`. */
  conflicts: string[];
  /** Ids of my added nodes/edges that clashed with theirs: old → new. */
  renamed: { nodes: Record<string, string>; edges: Record<string, string> };
  /** Edges dropped because an end was removed. */
  droppedEdges: string[];
}

type Json = unknown;

function isPlainObject(v: Json): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const same = (a: Json, b: Json) => canonical(a) === canonical(b);

/** Generic three-way merge of JSON values; `undefined` means "absent". */
function merge3(base: Json, theirs: Json, mine: Json, path: string, conflicts: string[]): Json {
  if (same(theirs, mine)) return theirs;
  if (same(base, mine)) return theirs;
  if (same(base, theirs)) return mine;
  if (isPlainObject(theirs) && isPlainObject(mine)) {
    const b = isPlainObject(base) ? base : {};
    const out: Record<string, Json> = {};
    const keys = [...Object.keys(theirs), ...Object.keys(mine).filter((k) => !(k in theirs))];
    for (const k of keys) {
      const v = merge3(b[k], theirs[k], mine[k], path ? `${path}.${k}` : k, conflicts);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  conflicts.push(path || "(document)");
  return mine;
}

/** A fresh id shaped like `id`: `coder-1` → `coder-2`, `e3` → `e4` (the editor's own schemes). */
function freshId(id: string, taken: Set<string>): string {
  const m = /^(.*?)(-?)(\d+)$/.exec(id);
  const id2 = m ? idAllocator(taken, m[2])(m[1]!) : idAllocator(taken)(id);
  taken.add(id2);
  return id2;
}

function byId<T extends { id: string }>(list: readonly T[] | undefined): Map<string, T> {
  return new Map((list ?? []).map((x) => [x.id, x]));
}

/** Merges two lists of id'd objects; `rename` is called for my additions whose id clashes. */
function mergeList<T extends { id: string }>(
  kind: "node" | "edge",
  base: readonly T[] | undefined,
  theirs: readonly T[] | undefined,
  mine: readonly T[] | undefined,
  conflicts: string[],
  rename: (item: T) => T,
): T[] {
  const b = byId(base);
  const t = byId(theirs);
  const m = byId(mine);
  const out: T[] = [];
  const order = [...t.keys(), ...[...m.keys()].filter((id) => !t.has(id))];
  for (const id of order) {
    const bv = b.get(id);
    const tv = t.get(id);
    const mv = m.get(id);
    if (bv && tv && mv) {
      const local: string[] = [];
      out.push(merge3(bv, tv, mv, "", local) as T);
      for (const p of local) conflicts.push(`${kind} ${id}: ${p}`);
    } else if (bv && tv && !mv) {
      // I removed it: stays removed unless they changed it.
      if (!same(bv, tv)) {
        out.push(tv);
        conflicts.push(`${kind} ${id}: removed by you, changed by them (kept)`);
      }
    } else if (bv && !tv && mv) {
      if (!same(bv, mv)) {
        out.push(mv);
        conflicts.push(`${kind} ${id}: removed by them, changed by you (kept)`);
      }
    } else if (!bv && tv && mv) {
      out.push(tv);
      if (!same(tv, mv)) out.push(rename(mv));
    } else if (tv) out.push(tv);
    else if (mv) out.push(mv);
  }
  return out;
}

export function mergeDocuments(base: WorkflowDocument, theirs: WorkflowDocument, mine: WorkflowDocument): MergeResult {
  const conflicts: string[] = [];
  const renamed = { nodes: {} as Record<string, string>, edges: {} as Record<string, string> };

  // Node ids mine added that they added too (with other content) get fresh ids first, so my edges
  // can be pointed at them before the edges merge.
  const baseNodes = byId(base.nodes);
  const theirNodes = byId(theirs.nodes);
  const takenNodes = new Set([...theirNodes.keys(), ...(mine.nodes ?? []).map((n) => n.id), ...baseNodes.keys()]);
  for (const n of mine.nodes ?? []) {
    const t = theirNodes.get(n.id);
    if (!baseNodes.has(n.id) && t && !same(t, n)) renamed.nodes[n.id] = freshId(n.id, takenNodes);
  }
  const remapNode = (id: string) => renamed.nodes[id] ?? id;
  const myEdges: DocEdge[] = (mine.edges ?? []).map((e) => {
    if (!(e.source in renamed.nodes) && !(e.target in renamed.nodes)) return e;
    return {
      ...e,
      source: remapNode(e.source),
      target: remapNode(e.target),
      // An input key that was the old source id names the renamed node.
      ...(e.target_handle && e.target_handle in renamed.nodes ? { target_handle: remapNode(e.target_handle) } : {}),
    };
  });

  const nodes = mergeList<DocNode>("node", base.nodes, theirs.nodes, mine.nodes, conflicts, (n) => ({
    ...n,
    id: remapNode(n.id),
  }));

  const takenEdges = new Set([...(base.edges ?? []), ...(theirs.edges ?? []), ...myEdges].map((e) => e.id));
  const mergedEdges = mergeList<DocEdge>("edge", base.edges, theirs.edges, myEdges, conflicts, (e) => {
    const id = freshId(e.id, takenEdges);
    renamed.edges[e.id] = id;
    return { ...e, id };
  });
  const nodeIds = new Set(nodes.map((n) => n.id));
  const droppedEdges: string[] = [];
  const edges = mergedEdges.filter((e) => {
    const ok = nodeIds.has(e.source) && nodeIds.has(e.target);
    if (!ok) droppedEdges.push(e.id);
    return ok;
  });

  // Everything else (name, description, settings, inputs, unknown keys): key by key.
  const strip = (d: WorkflowDocument) => {
    const { nodes: _n, edges: _e, ...rest } = d;
    return rest;
  };
  const meta = merge3(strip(base), strip(theirs), strip(mine), "", conflicts) as Omit<
    WorkflowDocument,
    "nodes" | "edges"
  >;

  return { document: { ...meta, nodes, edges } as WorkflowDocument, conflicts, renamed, droppedEdges };
}
