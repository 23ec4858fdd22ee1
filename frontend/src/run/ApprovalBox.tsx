import { useEffect, useState } from "react";
import { useParams } from "react-router";
import { api } from "../api/endpoints";
import { decisionText, type ApprovalLive } from "../live/runState";
import { toast } from "../ui/toasts";
import { useApprovals, useWaitsForMe } from "./approvals";

function approversText(approvers: string | string[]): string {
  return Array.isArray(approvers) ? approvers.join(", ") : "the workspace's editors";
}

/**
 * An approval node's message and, for its approvers while it waits, Approve / Reject with a
 * comment; once decided, the decision. `nodrag nowheel`: typing and clicking here must not pan
 * or drag the canvas.
 */
export function ApprovalBox({ nodeId, approval }: { nodeId: string; approval: ApprovalLive }) {
  // The run page's route names the run.
  const runId = useParams().id ?? null;
  const mine = useWaitsForMe(runId, nodeId);
  const refresh = useApprovals((s) => s.refresh);
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const decided = approval.decision !== null;
  // The list may predate this wait: ask again whether it waits for this user.
  useEffect(() => {
    if (!decided) void refresh();
  }, [decided, refresh]);

  if (decided) {
    return (
      <div className="node-note" data-testid={`approval-decision-${nodeId}`}>
        {decisionText(approval)}
      </div>
    );
  }
  const decide = (decision: "approve" | "reject") => {
    if (!runId) return;
    setBusy(true);
    api
      .decide(runId, nodeId, decision, comment)
      .then(() => refresh())
      .catch((err: unknown) => toast(err instanceof Error ? err.message : "The decision failed.", "error"))
      .finally(() => setBusy(false));
  };
  return (
    <div className="approval-box nodrag nowheel" data-testid={`approval-${nodeId}`}>
      <div className="approval-message">{approval.message}</div>
      {mine ? (
        <>
          <textarea
            rows={2}
            placeholder="Comment (optional)"
            aria-label="Comment"
            value={comment}
            maxLength={4000}
            onChange={(e) => setComment(e.target.value)}
            data-testid={`approval-comment-${nodeId}`}
          />
          <div className="approval-actions">
            <button
              type="button"
              className="button"
              disabled={busy}
              onClick={() => decide("approve")}
              data-testid={`approve-${nodeId}`}
            >
              Approve
            </button>
            <button
              type="button"
              className="button button-ghost"
              disabled={busy}
              onClick={() => decide("reject")}
              data-testid={`reject-${nodeId}`}
            >
              Reject
            </button>
          </div>
        </>
      ) : (
        <small className="muted">Waiting for {approversText(approval.approvers)}</small>
      )}
    </div>
  );
}
