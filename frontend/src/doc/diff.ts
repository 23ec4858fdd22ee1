/** A client-side structural diff of two documents (for the conflict dialog). */
import type { DocEdge, DocNode, WorkflowDocument } from "./types";

export interface DocDiff {
  nodes: { added: string[]; removed: string[]; changed: { id: string; fields: string[] }[] };
  edges: { added: string[]; removed: string[]; changed: { id: string; fields: string[] }[] };
  settingsChanged: boolean;
  inputsChanged: boolean;
  nameChanged: boolean;
}

/** Stable JSON (sorted keys) for equality. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }
    return v;
  });
}

function changedFields(a: Record<string, unknown>, b: Record<string, unknown>, prefix = ""): string[] {
  const out: string[] = [];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of [...keys].sort()) {
    const av = a[k];
    const bv = b[k];
    if (canonical(av) === canonical(bv)) continue;
    const path = prefix ? `${prefix}.${k}` : k;
    if (av && bv && typeof av === "object" && typeof bv === "object" && !Array.isArray(av) && !Array.isArray(bv))
      out.push(...changedFields(av as Record<string, unknown>, bv as Record<string, unknown>, path));
    else out.push(path);
  }
  return out;
}

function diffList<T extends { id: string }>(from: readonly T[], to: readonly T[]) {
  const a = new Map(from.map((x) => [x.id, x]));
  const b = new Map(to.map((x) => [x.id, x]));
  const added = [...b.keys()].filter((id) => !a.has(id));
  const removed = [...a.keys()].filter((id) => !b.has(id));
  const changed: { id: string; fields: string[] }[] = [];
  for (const [id, x] of a) {
    const y = b.get(id);
    if (!y) continue;
    const fields = changedFields(x as unknown as Record<string, unknown>, y as unknown as Record<string, unknown>);
    if (fields.length) changed.push({ id, fields });
  }
  return { added, removed, changed };
}

export function diffDocuments(from: WorkflowDocument, to: WorkflowDocument): DocDiff {
  return {
    nodes: diffList<DocNode>(from.nodes ?? [], to.nodes ?? []),
    edges: diffList<DocEdge>(from.edges ?? [], to.edges ?? []),
    settingsChanged: canonical(from.settings) !== canonical(to.settings),
    inputsChanged: canonical(from.inputs) !== canonical(to.inputs),
    nameChanged: from.name !== to.name || from.description !== to.description,
  };
}

export function isEmptyDiff(d: DocDiff): boolean {
  return (
    !d.settingsChanged &&
    !d.inputsChanged &&
    !d.nameChanged &&
    [d.nodes, d.edges].every((x) => !x.added.length && !x.removed.length && !x.changed.length)
  );
}
