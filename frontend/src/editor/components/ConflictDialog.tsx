import { useMemo } from "react";
import { diffDocuments } from "../../doc/diff";
import type { WorkflowDocument } from "../../doc/types";
import type { Workflow } from "../../api/types";
import { Dialog } from "../../ui/Dialog";
import { formatTime } from "../../ui/format";

function Side({ title, doc, who, when, version, versionLabel = "Version", testId }: { title: string; doc: WorkflowDocument | undefined; who?: string | null | undefined; when?: string | undefined; version?: number | undefined; versionLabel?: string; testId: string }) {
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

export function ConflictDialog({
  mine,
  theirs,
  currentVersion,
  baseVersion,
  onReload,
  onKeepMine,
}: {
  mine: WorkflowDocument;
  theirs: Workflow | null;
  currentVersion: number;
  baseVersion?: number;
  onReload: () => void;
  onKeepMine: () => void;
}) {
  const diff = useMemo(() => (theirs ? diffDocuments(theirs.document, mine) : null), [mine, theirs]);
  return (
    <Dialog title="Someone else saved this workflow" onClose={() => undefined} dismissable={false} wide testId="conflict-dialog">
      <p>
        While you were editing, {theirs?.updated_by ?? "a teammate"} saved version {theirs?.version ?? currentVersion}. Your edits are not lost: choose which
        version to keep.
      </p>
      <div className="conflict-sides">
        <Side title="Theirs" doc={theirs?.document} who={theirs?.updated_by} when={theirs?.updated_at} version={theirs?.version ?? currentVersion} testId="conflict-theirs" />
        <Side title="Mine (unsaved)" doc={mine} version={baseVersion} versionLabel="Based on" testId="conflict-mine" />
      </div>
      {diff && (
        <div className="conflict-diff" data-testid="conflict-diff">
          <h3>What mine changes on top of theirs</h3>
          <ul className="small">
            {diff.nodes.added.map((id) => (
              <li key={`na-${id}`} className="diff-added">
                + node {id}
              </li>
            ))}
            {diff.nodes.removed.map((id) => (
              <li key={`nr-${id}`} className="diff-removed">
                − node {id}
              </li>
            ))}
            {diff.nodes.changed.map((c) => (
              <li key={`nc-${c.id}`} className="diff-changed">
                ~ node {c.id}: {c.fields.join(", ")}
              </li>
            ))}
            {diff.edges.added.map((id) => (
              <li key={`ea-${id}`} className="diff-added">
                + edge {id}
              </li>
            ))}
            {diff.edges.removed.map((id) => (
              <li key={`er-${id}`} className="diff-removed">
                − edge {id}
              </li>
            ))}
            {diff.edges.changed.map((c) => (
              <li key={`ec-${c.id}`} className="diff-changed">
                ~ edge {c.id}: {c.fields.join(", ")}
              </li>
            ))}
            {diff.settingsChanged && <li className="diff-changed">~ settings</li>}
            {diff.inputsChanged && <li className="diff-changed">~ inputs</li>}
            {diff.nameChanged && <li className="diff-changed">~ name / description</li>}
          </ul>
        </div>
      )}
      <div className="form-actions">
        <button type="button" className="button" onClick={onReload} disabled={!theirs} data-testid="conflict-reload">
          Reload theirs
        </button>
        <button type="button" className="button button-primary" onClick={onKeepMine} data-testid="conflict-keep-mine" data-autofocus>
          Keep mine as a new version
        </button>
      </div>
    </Dialog>
  );
}
