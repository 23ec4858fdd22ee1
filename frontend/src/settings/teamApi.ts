/**
 * The endpoints of the workspace settings page (docs/api.md, "Workspaces, members and invitations"), typed
 * from the OpenAPI schema. Tokens are the caller's own; everything else is per workspace.
 */
import { request } from "../api/client";
import type { components } from "../generated/api";
import type { Role } from "../api/types";

type Schemas = { [K in keyof components["schemas"]]: Required<components["schemas"][K]> };

export type WorkspaceSettings = Schemas["Workspace"];
export type Member = Schemas["Member"];
export type Invitation = Schemas["Invitation"];
/** The creation answer: the only time the link is known. */
export type NewInvitation = Schemas["NewInvitation"];
export type InvitationPreview = Schemas["InvitationPreview"];
export type ApiToken = Schemas["Token"];
/** The creation answer: the only time the key is known. */
export type NewApiToken = Schemas["NewToken"];
export type Scope = Schemas["ScopesEnum"];
export type WorkspaceRef = Schemas["MeWorkspace"];

export const SCOPES: readonly { scope: Scope; label: string }[] = [
  { scope: "read", label: "read: every GET" },
  { scope: "run", label: "run: start, cancel, resume runs" },
  { scope: "write", label: "write: every other change" },
  { scope: "admin", label: "admin: tokens, members, settings" },
];

export const ROLES: readonly Role[] = ["owner", "editor", "viewer"];

export type WorkspacePatch = Partial<
  Pick<WorkspaceSettings, "name" | "max_running_runs" | "monthly_budget_usd" | "allowed_domains">
>;

export type InvitationRequest = { role: Role } & ({ email: string } | { username: string });

const ws = (id: string) => `workspaces/${encodeURIComponent(id)}/`;

export const teamApi = {
  workspace: (id: string) => request<WorkspaceSettings>(ws(id)),
  patchWorkspace: (id: string, body: WorkspacePatch) => request<WorkspaceSettings>(ws(id), { method: "PATCH", body }),
  createWorkspace: (name: string) => request<WorkspaceSettings>("workspaces/", { method: "POST", body: { name } }),

  members: (id: string) => request<Member[]>(`${ws(id)}members/`),
  changeRole: (id: string, userId: number, role: Role) =>
    request<Member>(`${ws(id)}members/${userId}/`, { method: "PATCH", body: { role } }),
  removeMember: (id: string, userId: number) => request<void>(`${ws(id)}members/${userId}/`, { method: "DELETE" }),

  invitations: (id: string) => request<Invitation[]>(`${ws(id)}invitations/`),
  invite: (id: string, body: InvitationRequest) =>
    request<NewInvitation>(`${ws(id)}invitations/`, { method: "POST", body }),
  revokeInvitation: (id: string, invitationId: string) =>
    request<void>(`${ws(id)}invitations/${invitationId}/`, { method: "DELETE" }),
  previewInvitation: (token: string) => request<InvitationPreview>(`invitations/${encodeURIComponent(token)}/`),
  acceptInvitation: (token: string) =>
    request<WorkspaceRef>(`invitations/${encodeURIComponent(token)}/accept/`, { method: "POST" }),

  tokens: () => request<ApiToken[]>("tokens/"),
  createToken: (body: { name: string; scopes: Scope[]; expires_at?: string }) =>
    request<NewApiToken>("tokens/", { method: "POST", body }),
  revokeToken: (tokenId: string) => request<void>(`tokens/${tokenId}/`, { method: "DELETE" }),
};
