import type { Diff } from "../api/types";

type ListDiff = {
  added: readonly string[];
  removed: readonly string[];
  changed: readonly { id: string; fields: readonly string[] }[];
};
type DiffRow = { cls: string; text: string };

/** One row per node and edge added, removed or changed, then one per other part in `others` that changed. */
export function diffRows(
  nodes: ListDiff,
  edges: ListDiff,
  others: readonly [changed: boolean, what: string][],
): DiffRow[] {
  const rows: DiffRow[] = [];
  for (const [kind, list] of [
    ["node", nodes],
    ["edge", edges],
  ] as const) {
    for (const id of list.added) rows.push({ cls: "diff-added", text: `+ ${kind} ${id}` });
    for (const id of list.removed) rows.push({ cls: "diff-removed", text: `− ${kind} ${id}` });
    for (const c of list.changed) rows.push({ cls: "diff-changed", text: `~ ${kind} ${c.id}: ${c.fields.join(", ")}` });
  }
  for (const [changed, what] of others) if (changed) rows.push({ cls: "diff-changed", text: `~ ${what}` });
  return rows;
}

export function DiffView({ diff }: { diff: Diff }) {
  const rows = diffRows(diff.nodes, diff.edges, [
    [diff.settings_changed, "settings"],
    [diff.inputs_changed, "inputs"],
    [diff.name_changed, "name"],
  ]);
  return (
    <div data-testid="version-diff">
      <div className="muted small">
        v{diff.from} → v{diff.to}
      </div>
      {rows.length === 0 ? (
        <p className="muted">No changes.</p>
      ) : (
        <ul className="small diff-list">
          {rows.map((r, i) => (
            <li key={i} className={r.cls}>
              {r.text}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
