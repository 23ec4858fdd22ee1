import type { Diff } from "../api/types";

export function DiffView({ diff }: { diff: Diff }) {
  const rows: { cls: string; text: string }[] = [];
  for (const id of diff.nodes.added) rows.push({ cls: "diff-added", text: `+ node ${id}` });
  for (const id of diff.nodes.removed) rows.push({ cls: "diff-removed", text: `− node ${id}` });
  for (const c of diff.nodes.changed) rows.push({ cls: "diff-changed", text: `~ node ${c.id}: ${c.fields.join(", ")}` });
  for (const id of diff.edges.added) rows.push({ cls: "diff-added", text: `+ edge ${id}` });
  for (const id of diff.edges.removed) rows.push({ cls: "diff-removed", text: `− edge ${id}` });
  for (const c of diff.edges.changed) rows.push({ cls: "diff-changed", text: `~ edge ${c.id}: ${c.fields.join(", ")}` });
  if (diff.settings_changed) rows.push({ cls: "diff-changed", text: "~ settings" });
  if (diff.inputs_changed) rows.push({ cls: "diff-changed", text: "~ inputs" });
  if (diff.name_changed) rows.push({ cls: "diff-changed", text: "~ name" });
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
