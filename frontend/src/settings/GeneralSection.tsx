import { useState, type FormEvent } from "react";
import { useSession } from "../session/store";
import { FormError } from "../ui/forms";
import { ErrorState, Spinner } from "../ui/states";
import { toast } from "../ui/toasts";
import { useFetch } from "../ui/useFetch";
import { messageOf } from "./errors";
import { teamApi, type WorkspacePatch, type WorkspaceSettings } from "./teamApi";

/** One domain per line (or comma-separated), blanks dropped; the server normalises and checks them. */
export function parseDomains(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((d) => d.trim())
    .filter(Boolean);
}

interface Draft {
  name: string;
  maxRunning: string;
  budget: string;
  domains: string;
}

const draftOf = (w: WorkspaceSettings): Draft => ({
  name: w.name,
  maxRunning: String(w.max_running_runs),
  budget: w.monthly_budget_usd === null ? "" : String(w.monthly_budget_usd),
  domains: w.allowed_domains.join("\n"),
});

export function patchOf(draft: Draft): WorkspacePatch {
  return {
    name: draft.name.trim(),
    max_running_runs: Number(draft.maxRunning),
    monthly_budget_usd: draft.budget.trim() === "" ? null : Number(draft.budget),
    allowed_domains: parseDomains(draft.domains),
  };
}

/** The workspace's name, limits and allowed domains (owners edit them), and how long runs are kept. */
export function GeneralSection({ workspaceId, isOwner }: { workspaceId: string; isOwner: boolean }) {
  const workspace = useFetch(`workspace:${workspaceId}`, () => teamApi.workspace(workspaceId));
  if (workspace.status === "loading") return <Spinner />;
  if (workspace.status === "error") return <ErrorState error={workspace.error} onRetry={workspace.retry} />;
  return (
    <GeneralForm
      key={workspaceId}
      workspace={workspace.data}
      isOwner={isOwner}
      onSaved={(w) => workspace.set(() => w)}
    />
  );
}

function GeneralForm({
  workspace,
  isOwner,
  onSaved,
}: {
  workspace: WorkspaceSettings;
  isOwner: boolean;
  onSaved: (w: WorkspaceSettings) => void;
}) {
  const refresh = useSession((s) => s.refresh);
  const [draft, setDraft] = useState<Draft>(() => draftOf(workspace));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const edit = (field: keyof Draft) => (e: { target: { value: string } }) =>
    setDraft((d) => ({ ...d, [field]: e.target.value }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const saved = await teamApi.patchWorkspace(workspace.id, patchOf(draft));
      onSaved(saved);
      setDraft(draftOf(saved));
      if (saved.name !== workspace.name) await refresh();
      toast("Workspace settings saved.", "success");
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} data-testid="general-form">
      <fieldset disabled={!isOwner || busy} style={{ border: 0, padding: 0, margin: 0 }}>
        <section className="panel-section" aria-labelledby="general-heading">
          <h2 id="general-heading">Workspace</h2>
          <label className="field">
            <span>Name</span>
            <input value={draft.name} onChange={edit("name")} required maxLength={200} data-testid="ws-name" />
          </label>
        </section>
        <section className="panel-section" aria-labelledby="limits-heading" data-testid="limits-section">
          <h2 id="limits-heading">Limits</h2>
          <div className="field-row">
            <label className="field">
              <span>Runs running at once</span>
              <input
                type="number"
                min={1}
                step={1}
                value={draft.maxRunning}
                onChange={edit("maxRunning")}
                required
                data-testid="ws-max-running"
              />
              <small className="muted">More wait in the queue.</small>
            </label>
            <label className="field">
              <span>Monthly budget (USD)</span>
              <input
                type="number"
                min={0}
                step="0.01"
                value={draft.budget}
                onChange={edit("budget")}
                placeholder="No budget"
                data-testid="ws-budget"
              />
              <small className="muted">Past it, new runs are refused this month (UTC).</small>
            </label>
          </div>
        </section>
        <section className="panel-section" aria-labelledby="domains-heading" data-testid="domains-section">
          <h2 id="domains-heading">Allowed domains</h2>
          <label className="field">
            <span>
              Outbound requests go only to these domains and their subdomains (one per line; empty: any public host)
            </span>
            <textarea
              rows={4}
              value={draft.domains}
              onChange={edit("domains")}
              spellCheck={false}
              data-testid="ws-domains"
            />
          </label>
        </section>
      </fieldset>
      <section className="panel-section" aria-labelledby="retention-heading" data-testid="retention-section">
        <h2 id="retention-heading">Retention</h2>
        <p>
          Finished runs are kept <strong data-testid="retention-default">{workspace.retention_default_days}</strong>{" "}
          days unless their workflow sets its own retention (in the workflow’s settings), at most{" "}
          <strong>{workspace.retention_max_days}</strong> days. Both limits are the operator’s.
        </p>
      </section>
      <FormError error={error} testId="general-error" />
      {isOwner ? (
        <button type="submit" className="button button-primary" disabled={busy} data-testid="general-save">
          Save workspace settings
        </button>
      ) : (
        <p className="muted small">Only owners change these settings.</p>
      )}
    </form>
  );
}
