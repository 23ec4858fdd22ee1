import { useEffect, useState } from "react";
import { api } from "../../api/endpoints";
import type { Diff, VersionSummary, Workflow } from "../../api/types";
import { Chip, Chips } from "../../ui/Chip";
import { Dialog } from "../../ui/Dialog";
import { formatTime } from "../../ui/format";
import { ErrorState, Spinner } from "../../ui/states";
import { useFetch } from "../../ui/useFetch";
import { DiffView } from "../../ui/DiffView";

export function VersionsDialog({
  workflowId,
  currentVersion,
  onClose,
  onRestored,
  beforeRestore,
  readOnly,
}: {
  workflowId: string;
  currentVersion: number;
  onClose: () => void;
  onRestored: (w: Workflow) => void;
  beforeRestore: () => Promise<number>;
  readOnly: boolean;
}) {
  const [versions, setVersions] = useState<VersionSummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [picked, setPicked] = useState<number | null>(null);
  const [against, setAgainst] = useState<"previous" | "current">("previous");
  const [restoreError, setRestoreError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .versions(workflowId)
      .then((v) => setVersions([...v].sort((a, b) => b.number - a.number)))
      .catch(setError);
  }, [workflowId]);

  const first = picked === 1 && against === "previous";
  const diffKey = picked === null || first ? null : JSON.stringify([picked, against, currentVersion]);
  const diffState = useFetch<Diff>(diffKey, () =>
    against === "current" ? api.diff(workflowId, currentVersion, picked ?? 0) : api.diff(workflowId, picked ?? 0),
  );
  const diff = diffState.data ?? null;
  const diffError = first
    ? "The first version: nothing before it."
    : diffState.status === "error"
      ? diffState.error instanceof Error
        ? diffState.error.message
        : String(diffState.error)
      : restoreError;

  const restore = async () => {
    if (picked === null) return;
    setBusy(true);
    try {
      const version = await beforeRestore();
      const w = await api.restore(workflowId, picked, version);
      onRestored(w);
      onClose();
    } catch (err) {
      setRestoreError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <Dialog title="Version history" onClose={onClose} wide testId="versions-dialog">
      {error ? <ErrorState error={error} /> : null}
      {!versions && !error && <Spinner />}
      {versions && (
        <div className="versions">
          <ul className="version-list" role="listbox" aria-label="Versions">
            {versions.map((v) => (
              <li key={v.number}>
                <button
                  type="button"
                  role="option"
                  aria-selected={picked === v.number}
                  className={`version-item${picked === v.number ? " is-active" : ""}`}
                  onClick={() => setPicked(v.number)}
                  data-testid={`version-${v.number}`}
                >
                  <strong>v{v.number}</strong>
                  {v.number === currentVersion && <span className="badge">current</span>}
                  <span className="muted small">
                    {v.author ?? "—"} · {formatTime(v.created_at)} · {v.node_count} nodes
                  </span>
                  {v.message && <span className="small">{v.message}</span>}
                </button>
              </li>
            ))}
          </ul>
          <div className="version-detail">
            {picked === null ? (
              <p className="muted">Pick a version to see what changed.</p>
            ) : (
              <>
                <Chips label="Compare with">
                  <Chip active={against === "previous"} onClick={() => setAgainst("previous")}>
                    Changes in v{picked}
                  </Chip>
                  <Chip active={against === "current"} onClick={() => setAgainst("current")}>
                    v{picked} → current
                  </Chip>
                </Chips>
                {diff && <DiffView diff={diff} />}
                {diffError && <p className="muted">{diffError}</p>}
                {diffKey !== null && diffState.status === "loading" && <Spinner />}
                {!readOnly && picked !== currentVersion && (
                  <button
                    type="button"
                    className="button button-primary"
                    onClick={() => void restore()}
                    disabled={busy}
                    data-testid="version-restore"
                  >
                    Restore v{picked} as a new version
                  </button>
                )}
              </>
            )}
          </div>
        </div>
      )}
    </Dialog>
  );
}
