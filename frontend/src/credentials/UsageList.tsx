import { useEffect } from "react";
import { Link } from "react-router";
import type { CredentialUsage } from "../api/types";
import { useWorkspaceData } from "../workspace/store";

/** The workflows (links to their editor) whose current version names a credential. */
export function WorkflowLinks({ workflows, testId }: { workflows: readonly CredentialUsage[]; testId?: string }) {
  return (
    <ul className="usage-list" data-testid={testId}>
      {workflows.map((w) => (
        <li key={w.id}>
          <Link to={`/workflows/${w.id}`}>{w.name || "Untitled"}</Link>
        </li>
      ))}
    </ul>
  );
}

/** Where a credential is used, from `GET credentials/<id>/usage/` (asked afresh each time it opens). */
export function UsageList({ credentialId }: { credentialId: string }) {
  const entry = useWorkspaceData((s) => s.usage[credentialId]);
  const loadUsage = useWorkspaceData((s) => s.loadUsage);
  useEffect(() => {
    void loadUsage(credentialId);
  }, [credentialId, loadUsage]);
  const testId = `credential-usage-${credentialId}`;
  if (!entry || (entry.status === "loading" && !entry.data))
    return (
      <p className="muted small" role="status" data-testid={testId}>
        Looking for workflows that use it…
      </p>
    );
  if (entry.status === "error")
    return (
      <p className="field-error" role="alert" data-testid={testId}>
        Could not tell where it is used: {entry.error}
      </p>
    );
  const workflows = entry.data ?? [];
  if (workflows.length === 0)
    return (
      <p className="muted small" data-testid={testId}>
        No workflow uses it: agents without a credential of their own use the workspace’s oldest one of their provider.
      </p>
    );
  return (
    <div data-testid={testId}>
      <p className="small">
        Named by {workflows.length === 1 ? "1 workflow" : `${workflows.length} workflows`} (their current version):
      </p>
      <WorkflowLinks workflows={workflows} />
    </div>
  );
}
