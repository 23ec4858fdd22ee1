import { NavLink } from "react-router";
import { currentRole, useSession } from "../session/store";
import { GeneralSection } from "../settings/GeneralSection";
import { InvitationsSection } from "../settings/InvitationsSection";
import { MembersSection } from "../settings/MembersSection";
import { TokensSection } from "../settings/TokensSection";
import { WorkspacesSection } from "../settings/WorkspacesSection";
import { EmptyState } from "../ui/states";

/**
 * Workspace settings (SPEC §14): the current workspace's members, invitations, limits, allowed domains
 * and retention; the caller's API tokens; switching and creating workspaces. Credentials have their
 * own page, linked from here.
 */
export function SettingsPage() {
  const workspaceId = useSession((s) => s.workspaceId);
  const workspaceName = useSession((s) => s.me?.workspaces.find((w) => w.id === s.workspaceId)?.name);
  const role = useSession(currentRole);
  const isOwner = role === "owner";

  return (
    <div className="page" data-testid="settings-page">
      <div className="page-header">
        <div>
          <h1>Workspace settings</h1>
          <p className="muted small">
            {workspaceName ? `${workspaceName} · your role: ${role}` : "You are not in a workspace yet."} ·{" "}
            <NavLink to="/settings/credentials">Credentials</NavLink>
          </p>
        </div>
      </div>
      <WorkspacesSection />
      {workspaceId ? (
        <>
          <MembersSection key={`m-${workspaceId}`} workspaceId={workspaceId} isOwner={isOwner} />
          {isOwner && <InvitationsSection key={`i-${workspaceId}`} workspaceId={workspaceId} />}
          <GeneralSection key={`g-${workspaceId}`} workspaceId={workspaceId} isOwner={isOwner} />
        </>
      ) : (
        <EmptyState title="No workspace">Create one above, or open an invitation link someone sent you.</EmptyState>
      )}
      <TokensSection />
    </div>
  );
}
