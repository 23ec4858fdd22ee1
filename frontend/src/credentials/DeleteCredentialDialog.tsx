import { useState } from "react";
import type { CredentialView } from "../api/types";
import { Dialog } from "../ui/Dialog";
import { FormError } from "../ui/forms";
import { toast } from "../ui/toasts";
import { useWorkspaceData, type InUse } from "../workspace/store";
import { WorkflowLinks } from "./UsageList";

/**
 * Asks before deleting; when the server refuses because workflows name the credential (409 `in_use`),
 * says so and lists them, linked, in place of the question.
 */
export function DeleteCredentialDialog({ credential, onClose }: { credential: CredentialView; onClose: () => void }) {
  const deleteCredential = useWorkspaceData((s) => s.deleteCredential);
  const [inUse, setInUse] = useState<InUse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      const refused = await deleteCredential(credential);
      if (refused) {
        setInUse(refused);
        setBusy(false);
        return;
      }
      toast(`Deleted “${credential.name}”`, "success");
      onClose();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  const footer = inUse ? (
    <div className="form-actions">
      <button type="button" className="button" onClick={onClose}>
        Close
      </button>
    </div>
  ) : (
    <div className="form-actions">
      <button type="button" className="button" onClick={onClose}>
        Cancel
      </button>
      <button
        type="button"
        className="button button-danger"
        onClick={() => void confirm()}
        disabled={busy}
        data-testid="credential-delete-confirm"
      >
        {busy ? "Deleting…" : "Delete"}
      </button>
    </div>
  );

  return (
    <Dialog title={`Delete “${credential.name}”?`} onClose={onClose} footer={footer} testId="credential-delete-dialog">
      {inUse ? (
        <div className="form-error" role="alert" data-testid="credential-in-use">
          <p>
            <strong>It is still in use.</strong> {inUse.message}
          </p>
          {inUse.workflows.length > 0 && (
            <>
              <p>Choose another credential in these workflows’ agents, then delete it:</p>
              <WorkflowLinks workflows={inUse.workflows} testId="credential-in-use-workflows" />
            </>
          )}
        </div>
      ) : (
        <p>
          Runs stop using it at once. Agents that name no credential fall back to the workspace’s next credential of
          this provider, then to the operator’s key.
        </p>
      )}
      <FormError error={error} testId="credential-delete-error" />
    </Dialog>
  );
}
