/**
 * The run's side effects (SPEC §11, docs/api.md "Side effects and rollback"): what each http call did
 * to the world and where its undoing stands. "Roll back" (editors, finished runs) asks the server to
 * compensate them newest first; `sideeffect.*` events bring each outcome in live. Manual compensations
 * wait for a person, who marks them resolved here.
 */
import { useCallback, useEffect, useState } from "react";
import { api, type SideEffect } from "../api/endpoints";
import { isRunFinished } from "../live/runState";
import { roleIn, useSession } from "../session/store";
import { Dialog } from "../ui/Dialog";
import { FormError, FormFooter } from "../ui/forms";
import { ListTable } from "../ui/ListTable";
import { toast } from "../ui/toasts";
import { useRunView } from "./context";

const STATE_TEXT: Record<SideEffect["state"], string> = {
  done: "done",
  compensated: "compensated",
  compensation_failed: "compensation failed",
  manual: "waiting for a person",
};

const COLUMNS = ["Node", "Request", "Status", "State", "Undo", <span className="sr-only">Actions</span>];

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function SideEffectsPanel({ runId, workspace }: { runId: string; workspace: string }) {
  const role = useSession((s) => roleIn(s, workspace));
  const canWrite = role === "owner" || role === "editor";
  const finished = isRunFinished(useRunView((s) => s.runState));
  // Rows are written as nodes succeed, their outcomes arrive as `sideeffect.*` events.
  const succeeded = useRunView((s) => s.counts.succeeded);
  const eventSeq = useRunView((s) => s.sideEffectSeq);
  const [effects, setEffects] = useState<SideEffect[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);

  const load = useCallback(() => {
    api
      .listSideEffects(runId)
      .then((rows) => {
        setEffects(rows);
        setLoadError(null);
      })
      .catch((err: unknown) => setLoadError(errorText(err)));
  }, [runId]);
  useEffect(load, [load, succeeded, eventSeq, finished]);

  const resolve = async (effect: SideEffect) => {
    try {
      const updated = await api.resolveSideEffect(runId, effect.id);
      setEffects((rows) => rows?.map((r) => (r.id === updated.id ? updated : r)) ?? rows);
    } catch (err) {
      toast(errorText(err), "error");
    }
  };

  const undoable = (effects ?? []).some(
    (e) => e.compensation && (e.state === "done" || e.state === "compensation_failed"),
  );
  return (
    <section className="side-effects" data-testid="side-effects-panel">
      <div className="toolbar-group">
        <span className="muted small">
          What this run’s requests changed elsewhere, and where undoing it stands. A rollback compensates newest first.
        </span>
        {canWrite && (
          <button
            type="button"
            className="button button-danger"
            onClick={() => setConfirming(true)}
            disabled={!finished || !undoable}
            title={finished ? undefined : "The run is still running"}
            data-testid="rollback-run"
          >
            Roll back
          </button>
        )}
      </div>
      {loadError && <FormError error={loadError} />}
      {effects && effects.length === 0 && <p className="muted">This run changed nothing elsewhere.</p>}
      {effects && effects.length > 0 && (
        <ListTable columns={COLUMNS} testId="side-effects-table">
          {effects.map((e) => (
            <SideEffectRow key={e.id} effect={e} canWrite={canWrite} onResolve={() => void resolve(e)} />
          ))}
        </ListTable>
      )}
      {confirming && (
        <RollbackDialog
          runId={runId}
          count={(effects ?? []).filter((e) => e.compensation && e.state !== "compensated").length}
          onClose={() => setConfirming(false)}
          onDone={(rows) => {
            setEffects(rows);
            setConfirming(false);
          }}
        />
      )}
    </section>
  );
}

function SideEffectRow({
  effect,
  canWrite,
  onResolve,
}: {
  effect: SideEffect;
  canWrite: boolean;
  onResolve: () => void;
}) {
  const compensation = effect.compensation;
  const manual = compensation && typeof compensation.manual === "string" ? compensation.manual : null;
  const pending = effect.state === "done" && effect.rollback_requested_at !== null;
  const error = effect.error as { code?: string; message?: string } | null;
  return (
    <tr data-testid={`side-effect-${effect.id}`} data-state={effect.state}>
      <td className="mono">{effect.node_id}</td>
      <td className="mono small">
        {effect.method} {effect.host}
        {effect.path}
      </td>
      <td>{effect.status}</td>
      <td>
        <span className={`state-badge side-effect-${effect.state}`} data-testid="side-effect-state">
          {pending ? "rolling back…" : STATE_TEXT[effect.state]}
        </span>
        {error?.message && <div className="field-error small">{error.message}</div>}
      </td>
      <td className="small">
        {compensation === null
          ? "irreversible"
          : manual !== null
            ? manual
            : `${String(compensation.method)} ${String(compensation.url)}`}
      </td>
      <td>
        {canWrite && effect.state === "manual" && (
          <button type="button" className="button" onClick={onResolve} data-testid="side-effect-resolve">
            Mark resolved
          </button>
        )}
      </td>
    </tr>
  );
}

function RollbackDialog({
  runId,
  count,
  onClose,
  onDone,
}: {
  runId: string;
  count: number;
  onClose: () => void;
  onDone: (rows: SideEffect[]) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const rollback = async () => {
    setBusy(true);
    try {
      onDone(await api.rollbackRun(runId));
    } catch (err) {
      setBusy(false);
      setError(errorText(err));
    }
  };
  return (
    <Dialog title="Roll back this run" onClose={onClose} testId="rollback-dialog">
      <p>
        Undo {count} side effect{count === 1 ? "" : "s"} of this run, newest first: each reverse request is sent once;
        manual ones are listed for a person to do. Irreversible ones stay as they are.
      </p>
      <FormError error={error} />
      <FormFooter
        onCancel={onClose}
        submitLabel={busy ? "Rolling back…" : "Roll back"}
        submitDisabled={busy}
        submitTestId="rollback-confirm"
        onSubmit={() => void rollback()}
      />
    </Dialog>
  );
}
