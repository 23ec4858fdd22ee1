import { useState } from "react";
import { useNavigate, useParams } from "react-router";
import { ApiError } from "../api/client";
import { useSession } from "../session/store";
import { formatTime } from "../ui/format";
import { Spinner } from "../ui/states";
import { toast } from "../ui/toasts";
import { useFetch } from "../ui/useFetch";
import { messageOf } from "./errors";
import { teamApi } from "./teamApi";

/** Why a link no longer works, in words (the server's 404 and 410 codes). */
export function linkProblem(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 404) return "This invitation link is not valid. Check that it was copied whole.";
    if (err.code === "invitation_used") return "This invitation was already accepted.";
    if (err.code === "invitation_revoked") return "This invitation was revoked. Ask for a new one.";
    if (err.code === "invitation_expired") return "This invitation has expired. Ask for a new one.";
  }
  return messageOf(err);
}

/** The page an invitation link opens (signed in): what is offered, and Accept. */
export function AcceptInvitationPage() {
  const { token = "" } = useParams();
  const preview = useFetch(`invitation:${token}`, () => teamApi.previewInvitation(token));
  const refresh = useSession((s) => s.refresh);
  const username = useSession((s) => s.me?.username);
  const navigate = useNavigate();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const accept = async () => {
    setBusy(true);
    setError(null);
    try {
      const joined = await teamApi.acceptInvitation(token);
      await refresh(joined.id);
      toast(`You joined ${joined.name} as ${joined.role}.`, "success");
      navigate("/workflows");
    } catch (err) {
      setError(linkProblem(err));
      setBusy(false);
    }
  };

  return (
    <div className="page" data-testid="accept-invitation-page">
      <h1>Invitation</h1>
      {preview.status === "loading" && <Spinner />}
      {preview.status === "error" && (
        <p className="form-error" role="alert" data-testid="invitation-problem">
          {linkProblem(preview.error)}
        </p>
      )}
      {preview.status === "ready" && (
        <div className="card" data-testid="invitation-offer">
          <p>
            {preview.data.invited_by ?? "An owner"} invited <strong>{preview.data.invitee}</strong> to the workspace{" "}
            <strong data-testid="invitation-workspace">{preview.data.workspace_name}</strong> as{" "}
            <strong>{preview.data.role}</strong>.
          </p>
          <p className="muted small">
            You are signed in as {username}. The invitation expires {formatTime(preview.data.expires_at)}.
          </p>
          {error && (
            <p className="form-error" role="alert" data-testid="invitation-problem">
              {error}
            </p>
          )}
          <button
            type="button"
            className="button button-primary"
            style={{ alignSelf: "flex-start" }}
            onClick={() => void accept()}
            disabled={busy}
            data-testid="invitation-accept"
          >
            Accept and join
          </button>
        </div>
      )}
    </div>
  );
}
