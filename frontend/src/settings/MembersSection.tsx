import { useState } from "react";
import type { Role } from "../api/types";
import { useSession } from "../session/store";
import { ListTable, RowButton } from "../ui/ListTable";
import { ListBody } from "../ui/states";
import { toast } from "../ui/toasts";
import { useFetch } from "../ui/useFetch";
import { messageOf } from "./errors";
import { ROLES, teamApi, type Member } from "./teamApi";

/** Who is in the workspace and with what role; owners change roles and remove people. */
export function MembersSection({ workspaceId, isOwner }: { workspaceId: string; isOwner: boolean }) {
  const members = useFetch(`members:${workspaceId}`, () => teamApi.members(workspaceId));
  const myId = useSession((s) => s.me?.id);
  const refresh = useSession((s) => s.refresh);
  const [confirming, setConfirming] = useState<number | null>(null);

  const changeRole = async (member: Member, role: Role) => {
    try {
      const updated = await teamApi.changeRole(workspaceId, member.user_id, role);
      members.set((list) => list.map((m) => (m.user_id === updated.user_id ? updated : m)));
      if (member.user_id === myId) await refresh();
      toast(`${member.username} is now ${role}.`, "success");
    } catch (err) {
      toast(messageOf(err), "error");
    }
  };

  const remove = async (member: Member) => {
    setConfirming(null);
    try {
      await teamApi.removeMember(workspaceId, member.user_id);
      members.set((list) => list.filter((m) => m.user_id !== member.user_id));
      if (member.user_id === myId) await refresh();
      toast(`${member.username} was removed.`, "success");
    } catch (err) {
      toast(messageOf(err), "error");
    }
  };

  const list = members.status === "ready" ? members.data : [];
  return (
    <section className="panel-section" aria-labelledby="members-heading" data-testid="members-section">
      <h2 id="members-heading">Members</h2>
      <ListBody
        list={{ status: members.status, error: members.error, retry: members.retry }}
        count={list.length}
        empty={<p className="muted">No members.</p>}
      >
        <ListTable columns={["Name", "Email", "Role", <span className="sr-only">Actions</span>]} testId="member-list">
          {list.map((m) => (
            <tr key={m.user_id} data-testid={`member-row-${m.username}`}>
              <td className="strong">
                {m.username}
                {m.user_id === myId && <span className="muted small"> (you)</span>}
              </td>
              <td>{m.email || <span className="muted">—</span>}</td>
              <td>
                {isOwner ? (
                  <select
                    aria-label={`Role of ${m.username}`}
                    value={m.role}
                    onChange={(e) => void changeRole(m, e.target.value as Role)}
                    data-testid="member-role"
                  >
                    {ROLES.map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </select>
                ) : (
                  m.role
                )}
              </td>
              <td className="actions">
                {isOwner &&
                  (confirming === m.user_id ? (
                    <RowButton danger onClick={() => void remove(m)} testId="member-remove-confirm">
                      Remove {m.username}?
                    </RowButton>
                  ) : (
                    <RowButton onClick={() => setConfirming(m.user_id)} testId="member-remove">
                      Remove
                    </RowButton>
                  ))}
              </td>
            </tr>
          ))}
        </ListTable>
      </ListBody>
    </section>
  );
}
