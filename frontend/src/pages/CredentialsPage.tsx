import { Fragment, useEffect, useState } from "react";
import type { CredentialView } from "../api/types";
import { AddCredentialDialog, RotateCredentialDialog } from "../credentials/CredentialForms";
import { DeleteCredentialDialog } from "../credentials/DeleteCredentialDialog";
import { UsageList } from "../credentials/UsageList";
import { currentRole, useSession } from "../session/store";
import { formatTime, relativeTime } from "../ui/format";
import { RowButton } from "../ui/ListTable";
import { EmptyState, ErrorState, Spinner } from "../ui/states";
import { providerSpec } from "../workspace/providers";
import { useWorkspaceData } from "../workspace/store";

type Action = { kind: "add" } | { kind: "rotate" | "delete"; credential: CredentialView };

/** Workspace settings: the workspace's keys for model providers and HTTP services (docs/credentials.md). */
export function CredentialsPage() {
  const workspaceId = useSession((s) => s.workspaceId);
  const workspaceName = useSession((s) => s.me?.workspaces.find((w) => w.id === s.workspaceId)?.name);
  const role = useSession(currentRole);
  const entry = useWorkspaceData((s) => (workspaceId ? s.credentials[workspaceId] : undefined));
  const loadCredentials = useWorkspaceData((s) => s.loadCredentials);
  const [action, setAction] = useState<Action | null>(null);
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());

  // Fresh on every visit: another member may have changed them, and `last_used_at` moves.
  useEffect(() => {
    if (workspaceId) void loadCredentials(workspaceId, { force: true });
  }, [workspaceId, loadCredentials]);

  const canWrite = role === "owner" || role === "editor";
  const items = entry?.data ?? [];
  const toggle = (id: string) =>
    setOpen((s) => {
      const next = new Set(s);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  const columns = canWrite ? 6 : 3;

  return (
    <div className="page" data-testid="credentials-page">
      <div className="page-header">
        <div>
          <h1>Credentials</h1>
          <p className="muted small">
            Workspace settings{workspaceName ? ` · ${workspaceName}` : ""}. Keys for model providers and HTTP services;
            agents use the one they name, else the oldest of their provider, else the operator’s key.
          </p>
        </div>
        {canWrite && workspaceId && (
          <button
            type="button"
            className="button button-primary"
            onClick={() => setAction({ kind: "add" })}
            data-testid="credential-add"
          >
            Add credential
          </button>
        )}
      </div>
      {!canWrite && role && (
        <p className="muted" data-testid="credentials-viewer-note">
          As a viewer you see which credentials exist, not how they are set up.
        </p>
      )}
      {(!entry || (entry.status === "loading" && !entry.data)) && <Spinner />}
      {entry?.status === "error" && !entry.data && (
        <ErrorState
          error={entry.error}
          onRetry={() => workspaceId && void loadCredentials(workspaceId, { force: true })}
        />
      )}
      {entry?.data && items.length === 0 && (
        <EmptyState title="No credentials yet">
          {canWrite
            ? "Add a provider’s API key so this workspace’s runs use its own account."
            : "An owner or editor can add one."}
        </EmptyState>
      )}
      {items.length > 0 && (
        <table className="table" data-testid="credential-list">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Provider</th>
              {canWrite && (
                <>
                  <th scope="col">Key</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                </>
              )}
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <Fragment key={c.id}>
                <tr data-testid={`credential-row-${c.id}`}>
                  <td className="strong" data-testid="credential-row-name">
                    {c.name}
                  </td>
                  <td>
                    {providerSpec(c.provider).label}
                    {c.config?.api_base && <div className="muted small mono">{c.config.api_base}</div>}
                  </td>
                  {canWrite && (
                    <>
                      <td className="mono" data-testid="credential-row-hint">
                        {c.hint ? `••••${c.hint}` : <span className="muted">set (too short to hint)</span>}
                      </td>
                      <td title={formatTime(c.created_at)}>{relativeTime(c.created_at)}</td>
                      <td title={formatTime(c.last_used_at)} data-testid="credential-row-last-used">
                        {c.last_used_at ? relativeTime(c.last_used_at) : <span className="muted">never</span>}
                      </td>
                    </>
                  )}
                  <td className="actions">
                    <button
                      type="button"
                      className="button button-small"
                      aria-expanded={open.has(c.id)}
                      onClick={() => toggle(c.id)}
                      data-testid="credential-usage-toggle"
                    >
                      Where used
                    </button>
                    {canWrite && (
                      <>
                        <RowButton
                          onClick={() => setAction({ kind: "rotate", credential: c })}
                          testId="credential-rotate"
                        >
                          Rotate
                        </RowButton>
                        <RowButton
                          danger
                          onClick={() => setAction({ kind: "delete", credential: c })}
                          testId="credential-delete"
                        >
                          Delete
                        </RowButton>
                      </>
                    )}
                  </td>
                </tr>
                {open.has(c.id) && (
                  <tr className="subrow">
                    <td colSpan={columns}>
                      <UsageList credentialId={c.id} />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
      {action?.kind === "add" && workspaceId && (
        <AddCredentialDialog workspace={workspaceId} onClose={() => setAction(null)} />
      )}
      {action?.kind === "rotate" && (
        <RotateCredentialDialog credential={action.credential} onClose={() => setAction(null)} />
      )}
      {action?.kind === "delete" && (
        <DeleteCredentialDialog credential={action.credential} onClose={() => setAction(null)} />
      )}
    </div>
  );
}
