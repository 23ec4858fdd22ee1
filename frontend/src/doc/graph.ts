/** Pure graph helpers: connection rules, cycle detection, fresh ids. */
import { nodeTypeInfo } from "./catalog";

export interface GraphNodeRef {
  id: string;
  type?: string | undefined;
  data?: { __type?: string } | undefined;
}
export interface GraphEdgeRef {
  id: string;
  source: string;
  target: string;
}

export type ConnectionCheck = { ok: true } | { ok: false; code: ConnectionRefusal; reason: string; path?: string[] };

export type ConnectionRefusal =
  "missing_node" | "self_loop" | "input_no_incoming" | "output_no_outgoing" | "duplicate" | "cycle";

function docType(node: GraphNodeRef): string {
  return node.data?.__type ?? node.type ?? "";
}

/**
 * Finds a path from `from` to `to` following edges forward (BFS, so the path is a
 * shortest one). Returns the node ids along it, both ends included, or null.
 */
export function findPath(edges: readonly GraphEdgeRef[], from: string, to: string): string[] | null {
  if (from === to) return [from];
  const out = new Map<string, string[]>();
  for (const e of edges) {
    const list = out.get(e.source);
    if (list) list.push(e.target);
    else out.set(e.source, [e.target]);
  }
  const prev = new Map<string, string>();
  const queue: string[] = [from];
  const seen = new Set<string>([from]);
  for (let i = 0; i < queue.length; i++) {
    const cur = queue[i]!;
    for (const next of out.get(cur) ?? []) {
      if (seen.has(next)) continue;
      seen.add(next);
      prev.set(next, cur);
      if (next === to) {
        const path = [to];
        let p = to;
        while (p !== from) {
          p = prev.get(p)!;
          path.push(p);
        }
        return path.reverse();
      }
      queue.push(next);
    }
  }
  return null;
}

/**
 * May an edge source → target be added? Handles: input nodes take no incoming edge,
 * output nodes give no outgoing edge; no self loops, no duplicates, no cycles.
 */
export function checkConnection(
  nodes: ReadonlyMap<string, GraphNodeRef> | readonly GraphNodeRef[],
  edges: readonly GraphEdgeRef[],
  source: string | null | undefined,
  target: string | null | undefined,
  labelOf: (id: string) => string = (id) => id,
): ConnectionCheck {
  const byId: ReadonlyMap<string, GraphNodeRef> = Array.isArray(nodes)
    ? new Map((nodes as readonly GraphNodeRef[]).map((n) => [n.id, n]))
    : (nodes as ReadonlyMap<string, GraphNodeRef>);
  if (!source || !target) return refuse("missing_node", "Both ends of an edge must be nodes.");
  const s = byId.get(source);
  const t = byId.get(target);
  if (!s || !t) return refuse("missing_node", "Both ends of an edge must be existing nodes.");
  if (source === target) return refuse("self_loop", "A node cannot connect to itself.");
  if (!nodeTypeInfo(docType(s)).hasSource)
    return refuse("output_no_outgoing", `${labelOf(source)} is an output node: it gives no outgoing edge.`);
  if (!nodeTypeInfo(docType(t)).hasTarget)
    return refuse("input_no_incoming", `${labelOf(target)} is an input node: it takes no incoming edge.`);
  if (edges.some((e) => e.source === source && e.target === target))
    return refuse("duplicate", `${labelOf(source)} is already connected to ${labelOf(target)}.`);
  const back = findPath(edges, target, source);
  if (back) {
    const cycle = [source, ...back];
    return {
      ok: false,
      code: "cycle",
      reason: `That edge would create a cycle: ${cycle.map(labelOf).join(" → ")}.`,
      path: cycle,
    };
  }
  return { ok: true };
}

function refuse(code: ConnectionRefusal, reason: string): ConnectionCheck {
  return { ok: false, code, reason };
}

/** `prefix-N` with N one more than the largest N already used with that prefix. */
export function nextId(prefix: string, taken: Iterable<string>): string {
  let max = 0;
  const re = new RegExp(`^${escapeRegExp(prefix)}-(\\d+)$`);
  for (const id of taken) {
    const m = re.exec(id);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return `${prefix}-${max + 1}`;
}

/** An id generator that never repeats within its lifetime, seeded by existing ids. */
export function idAllocator(taken: Iterable<string>, separator = "-"): (prefix: string) => string {
  const used = new Set(taken);
  const counters = new Map<string, number>();
  return (prefix: string) => {
    let n = counters.get(prefix);
    if (n === undefined) {
      const re = new RegExp(`^${escapeRegExp(prefix + separator)}(\\d+)$`);
      n = 0;
      for (const id of used) {
        const m = re.exec(id);
        if (m) n = Math.max(n, Number(m[1]));
      }
    }
    let id: string;
    do {
      n += 1;
      id = `${prefix}${separator}${n}`;
    } while (used.has(id));
    counters.set(prefix, n);
    used.add(id);
    return id;
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Kahn's algorithm: returns the cycle-free order, or null if there is a cycle. */
export function topoOrder(nodeIds: readonly string[], edges: readonly GraphEdgeRef[]): string[] | null {
  const indeg = new Map<string, number>(nodeIds.map((id) => [id, 0]));
  const out = new Map<string, string[]>();
  for (const e of edges) {
    if (!indeg.has(e.source) || !indeg.has(e.target)) continue;
    indeg.set(e.target, (indeg.get(e.target) ?? 0) + 1);
    (out.get(e.source) ?? out.set(e.source, []).get(e.source)!).push(e.target);
  }
  const queue = nodeIds.filter((id) => indeg.get(id) === 0);
  const order: string[] = [];
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    order.push(id);
    for (const t of out.get(id) ?? []) {
      const d = (indeg.get(t) ?? 0) - 1;
      indeg.set(t, d);
      if (d === 0) queue.push(t);
    }
  }
  return order.length === nodeIds.length ? order : null;
}
