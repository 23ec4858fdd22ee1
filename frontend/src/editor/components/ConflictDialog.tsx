import { useMemo } from "react";
import { diffDocuments, isEmptyDiff, type DocDiff } from "../../doc/diff";
import type { WorkflowDocument } from "../../doc/types";
import type { Workflow } from "../../api/types";
import type { MergeResult } from "../../doc/merge";
import { Dialog } from "../../ui/Dialog";
import { diffRows } from "../../ui/DiffView";
import { formatTime } from "../../ui/format";

function Side({
  title,
  doc,
  who,
  when,
  version,
  versionLabel = "Version",
  testId,
}: {
  title: string;
  doc: WorkflowDocument | undefined;
  who?: string | null | undefined;
  when?: string | undefined;
  version?: number | undefined;
  versionLabel?: string;
  testId: string;
}) {
  return (
    <div className="conflict-side" data-testid={testId}>
      <h3>{title}</h3>
      {doc ? (
        <dl className="kv">
          <dt>Name</dt>
          <dd>{doc.name}</dd>
          <dt>Nodes</dt>
          <dd>{doc.nodes?.length ?? 0}</dd>
          <dt>Edges</dt>
          <dd>{doc.edges?.length ?? 0}</dd>
          {version !== undefined && (
            <>
              <dt>{versionLabel}</dt>
              <dd>v{version}</dd>
            </>
          )}
          {who && (
            <>
              <dt>By</dt>
              <dd>{who}</dd>
            </>
          )}
          {when && (
            <>
              <dt>At</dt>
              <dd>{formatTime(when)}</dd>
            </>
          )}
        </dl>
      ) : (
        <p className="muted">Loading their version…</p>
      )}
    </div>
  );
}

function DiffList({ title, diff, testId }: { title: string; diff: DocDiff; testId: string }) {
  const rows = diffRows(diff.nodes, diff.edges, [
    [diff.settingsChanged, "settings"],
    [diff.inputsChanged, "inputs"],
    [diff.nameChanged, "name / description"],
  ]);
  return (
    <div className="conflict-diff" data-testid={testId}>
      <h3>{title}</h3>
      {isEmptyDiff(diff) ? (
        <p className="muted small">No changes.</p>
      ) : (
        <ul className="small">
          {rows.map((r) => (
            <li key={r.text} className={r.cls}>
              {r.text}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function ConflictDialog({
  mine,
  theirs,
  currentVersion,
  baseVersion,
  base,
  merge,
  onReload,
  onKeepMine,
  onMerge,
}: {
  mine: WorkflowDocument;
  theirs: Workflow | null;
  currentVersion: number;
  baseVersion?: number;
  /** The document of `baseVersion` (what my edits started from), for each side's own changes. */
  base?: WorkflowDocument | null;
  /** What "Merge both" would give (null: not available, e.g. their version is still loading). */
  merge?: MergeResult | null;
  onReload: () => void;
  onKeepMine: () => void;
  onMerge?: () => void;
}) {
  // With the base (the version my edits started from), each side's own changes; without it, what
  // mine changes on top of theirs.
  const theirChanges = useMemo(() => (theirs && base ? diffDocuments(base, theirs.document) : null), [base, theirs]);
  const myChanges = useMemo(
    () => (base ? diffDocuments(base, mine) : theirs ? diffDocuments(theirs.document, mine) : null),
    [base, mine, theirs],
  );
  return (
    <Dialog
      title="Someone else saved this workflow"
      onClose={() => undefined}
      dismissable={false}
      wide
      testId="conflict-dialog"
    >
      <p>
        While you were editing, {theirs?.updated_by ?? "a teammate"} saved version {theirs?.version ?? currentVersion}.
        Your edits are not lost: merge both, or choose one version.
      </p>
      <div className="conflict-sides">
        <Side
          title="Theirs"
          doc={theirs?.document}
          who={theirs?.updated_by}
          when={theirs?.updated_at}
          version={theirs?.version ?? currentVersion}
          testId="conflict-theirs"
        />
        <Side title="Mine (unsaved)" doc={mine} version={baseVersion} versionLabel="Based on" testId="conflict-mine" />
      </div>
      <div className="conflict-sides">
        {theirChanges && (
          <DiffList
            title={`Their changes (since v${baseVersion ?? "?"})`}
            diff={theirChanges}
            testId="conflict-their-changes"
          />
        )}
        {myChanges && (
          <DiffList
            title={base ? "My changes" : "What mine changes on top of theirs"}
            diff={myChanges}
            testId="conflict-diff"
          />
        )}
      </div>
      {merge && (
        <div className="conflict-merge small" data-testid="conflict-merge-summary">
          <strong>Merge both</strong> keeps their changes and yours ({merge.document.nodes.length} nodes,{" "}
          {merge.document.edges.length} edges).
          {Object.keys(merge.renamed.nodes).length > 0 && (
            <>
              {" "}
              Your{" "}
              {Object.entries(merge.renamed.nodes)
                .map(([a, b]) => `${a} becomes ${b}`)
                .join(", ")}{" "}
              (they added the same id).
            </>
          )}
          {merge.conflicts.length > 0 ? (
            <>
              {" "}
              You both changed {merge.conflicts.length === 1 ? "one field" : `${merge.conflicts.length} fields`}; yours
              is kept (theirs stays in the history):
              <ul>
                {merge.conflicts.map((c) => (
                  <li key={c} className="diff-changed">
                    {c}
                  </li>
                ))}
              </ul>
            </>
          ) : (
            " Nothing you both changed."
          )}
          {merge.droppedEdges.length > 0 && (
            <> Edges left without a node are dropped: {merge.droppedEdges.join(", ")}.</>
          )}
        </div>
      )}
      <div className="form-actions">
        <button type="button" className="button" onClick={onReload} disabled={!theirs} data-testid="conflict-reload">
          Reload theirs (drop mine)
        </button>
        <button type="button" className="button" onClick={onKeepMine} data-testid="conflict-keep-mine">
          Keep mine as a new version
        </button>
        {onMerge && (
          <button
            type="button"
            className="button button-primary"
            onClick={onMerge}
            disabled={!merge}
            data-testid="conflict-merge"
            data-autofocus
          >
            Merge both
          </button>
        )}
      </div>
    </Dialog>
  );
}
