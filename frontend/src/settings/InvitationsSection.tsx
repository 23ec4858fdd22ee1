import { useState, type FormEvent } from "react";
import type { Role } from "../api/types";
import { formatTime } from "../ui/format";
import { FormError } from "../ui/forms";
import { ListTable, RowButton } from "../ui/ListTable";
import { ListBody } from "../ui/states";
import { toast } from "../ui/toasts";
import { useFetch } from "../ui/useFetch";
import { CopyField } from "./CopyField";
import { messageOf } from "./errors";
import { ROLES, teamApi, type InvitationRequest, type NewInvitation } from "./teamApi";

/** An address with an @ is an email invitation; anything else names an existing user. */
export function invitationRequest(who: string, role: Role): InvitationRequest {
  const name = who.trim();
  return name.includes("@") ? { email: name, role } : { username: name, role };
}

/**
 * Owners invite people (by email or username) and revoke pending invitations. Nobody joins until they
 * open the link and accept; the link is shown once, here, right after it is made.
 */
export function InvitationsSection({ workspaceId }: { workspaceId: string }) {
  const invitations = useFetch(`invitations:${workspaceId}`, () => teamApi.invitations(workspaceId));
  const [who, setWho] = useState("");
  const [role, setRole] = useState<Role>("editor");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<NewInvitation | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const invitation = await teamApi.invite(workspaceId, invitationRequest(who, role));
      setCreated(invitation);
      setWho("");
      invitations.set((list) => [invitation, ...list]);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (id: string) => {
    try {
      await teamApi.revokeInvitation(workspaceId, id);
      invitations.set((list) => list.filter((i) => i.id !== id));
      if (created?.id === id) setCreated(null);
      toast("Invitation revoked.", "success");
    } catch (err) {
      toast(messageOf(err), "error");
    }
  };

  const list = invitations.status === "ready" ? invitations.data : [];
  return (
    <section className="panel-section" aria-labelledby="invitations-heading" data-testid="invitations-section">
      <h2 id="invitations-heading">Invitations</h2>
      <form className="field-row" onSubmit={(e) => void submit(e)} data-testid="invite-form">
        <label className="field">
          <span>Email or username</span>
          <input
            value={who}
            onChange={(e) => setWho(e.target.value)}
            required
            maxLength={254}
            autoComplete="off"
            data-testid="invite-who"
          />
        </label>
        <label className="field">
          <span>Role</span>
          <select value={role} onChange={(e) => setRole(e.target.value as Role)} data-testid="invite-role">
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button
          type="submit"
          className="button button-primary"
          style={{ flex: "0 0 auto", marginBottom: 10 }}
          disabled={busy || !who.trim()}
          data-testid="invite-submit"
        >
          Invite
        </button>
      </form>
      <FormError error={error} testId="invite-error" />
      {created && (
        <div className="card" role="status" style={{ marginBottom: 12 }} data-testid="invite-created">
          <p>
            {created.emailed
              ? `The link was emailed to ${created.email}. You can also pass it on yourself:`
              : `Send this link to ${created.email || created.username}. It is shown only now, works once, and expires ${formatTime(created.expires_at)}.`}
          </p>
          <CopyField value={created.url} label="Invitation link" testId="invite-link" />
        </div>
      )}
      <h3 className="small">Pending</h3>
      <ListBody
        list={{ status: invitations.status, error: invitations.error, retry: invitations.retry }}
        count={list.length}
        empty={
          <p className="muted" data-testid="invitations-empty">
            No pending invitations.
          </p>
        }
      >
        <ListTable
          columns={["Invited", "Role", "By", "Expires", <span className="sr-only">Actions</span>]}
          testId="invitation-list"
        >
          {list.map((i) => (
            <tr key={i.id} data-testid={`invitation-row-${i.id}`}>
              <td className="strong">{i.email || i.username}</td>
              <td>{i.role}</td>
              <td>{i.invited_by ?? <span className="muted">—</span>}</td>
              <td>{formatTime(i.expires_at)}</td>
              <td className="actions">
                <RowButton danger onClick={() => void revoke(i.id)} testId="invitation-revoke">
                  Revoke
                </RowButton>
              </td>
            </tr>
          ))}
        </ListTable>
      </ListBody>
    </section>
  );
}
