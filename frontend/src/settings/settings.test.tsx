import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Me, Role } from "../api/types";
import { SettingsPage } from "../pages/SettingsPage";
import { useSession } from "../session/store";
import { fakeApi, WS } from "../test/fakeApi";
import { AcceptInvitationPage } from "./AcceptInvitationPage";
import { parseDomains, patchOf } from "./GeneralSection";
import { invitationRequest } from "./InvitationsSection";
import { expiryIn } from "./TokensSection";

const OTHER = "22222222-2222-2222-2222-222222222222";
const BASE = `/api/v1/workspaces/${WS}/`;
const TOKEN = "t".repeat(43);

function signIn(role: Role, workspaces = [{ id: WS, name: "Demo", role }]) {
  const me = { id: 1, username: "demo", email: "demo@example.com", workspaces } as Me;
  useSession.setState({ status: "ready", me, workspaceId: WS, error: null });
}

const workspace = (over = {}) => ({
  id: WS,
  name: "Demo",
  role: "owner",
  max_running_runs: 20,
  monthly_budget_usd: null,
  allowed_domains: ["example.com"],
  retention_default_days: 30,
  retention_max_days: 365,
  created_at: "2026-01-01T00:00:00Z",
  ...over,
});

const members = [
  { user_id: 1, username: "demo", email: "demo@example.com", role: "owner", created_at: "2026-01-01T00:00:00Z" },
  { user_id: 2, username: "bea", email: "bea@example.com", role: "editor", created_at: "2026-01-02T00:00:00Z" },
];

const invitation = {
  id: "inv-1",
  workspace: WS,
  email: "cy@example.com",
  username: "",
  role: "viewer",
  invited_by: "demo",
  created_at: "2026-01-03T00:00:00Z",
  expires_at: "2026-01-10T00:00:00Z",
};

const token = {
  id: "tok-1",
  name: "ci",
  prefix: "alk_abcdef",
  scopes: ["read"],
  expires_at: "2027-01-01T00:00:00Z",
  created_at: "2026-01-01T00:00:00Z",
  last_used_at: null,
};

function routes(extra: Record<string, Parameters<typeof fakeApi>[0][string]> = {}) {
  return fakeApi({
    [`GET ${BASE}`]: () => ({ body: workspace() }),
    [`GET ${BASE}members/`]: () => ({ body: members }),
    [`GET ${BASE}invitations/`]: () => ({ body: [invitation] }),
    "GET /api/v1/tokens/": () => ({ body: [token] }),
    ...extra,
  });
}

function renderSettings() {
  return render(
    <MemoryRouter>
      <SettingsPage />
    </MemoryRouter>,
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("helpers", () => {
  it("invites by email when there is an @, else by username", () => {
    expect(invitationRequest(" a@b.c ", "editor")).toEqual({ email: "a@b.c", role: "editor" });
    expect(invitationRequest("bea", "viewer")).toEqual({ username: "bea", role: "viewer" });
  });

  it("reads domains one per line or comma-separated", () => {
    expect(parseDomains(" a.com\n\n b.org , c.net ")).toEqual(["a.com", "b.org", "c.net"]);
    expect(patchOf({ name: " W ", maxRunning: "5", budget: "", domains: "" })).toEqual({
      name: "W",
      max_running_runs: 5,
      monthly_budget_usd: null,
      allowed_domains: [],
    });
  });

  it("computes an expiry from a number of days", () => {
    expect(expiryIn(7, Date.UTC(2026, 0, 1))).toBe("2026-01-08T00:00:00.000Z");
  });
});

describe("settings page", () => {
  it("invites someone, shows the link once with a copy button, and revokes", async () => {
    signIn("owner");
    const writeText = vi.fn(async () => undefined);
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    const url = `http://test/invitations/${TOKEN}`;
    const calls = routes({
      [`POST ${BASE}invitations/`]: (body) => ({
        status: 201,
        body: {
          ...invitation,
          id: "inv-2",
          email: "dee@example.com",
          token: TOKEN,
          url,
          emailed: false,
          ...(body as object),
        },
      }),
      [`DELETE ${BASE}invitations/inv-1/`]: () => ({ status: 204 }),
    });
    renderSettings();
    await screen.findByTestId("invitation-row-inv-1");

    fireEvent.change(screen.getByTestId("invite-who"), { target: { value: "dee@example.com" } });
    fireEvent.change(screen.getByTestId("invite-role"), { target: { value: "viewer" } });
    fireEvent.click(screen.getByTestId("invite-submit"));
    const link = (await screen.findByTestId("invite-link")) as HTMLInputElement;
    expect(link.value).toBe(url);
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ email: "dee@example.com", role: "viewer" });
    fireEvent.click(screen.getByTestId("invite-link-copy"));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith(url));
    expect(screen.getByTestId("invite-link-copy").textContent).toBe("Copied");
    // The pending list shows the new invitation but never its token.
    const listed = screen.getByTestId("invitation-row-inv-2");
    expect(listed.textContent).not.toContain(TOKEN);

    fireEvent.click(within(screen.getByTestId("invitation-row-inv-1")).getByTestId("invitation-revoke"));
    await waitFor(() => expect(screen.queryByTestId("invitation-row-inv-1")).toBeNull());
    expect(calls.some((c) => c.method === "DELETE" && c.path === `${BASE}invitations/inv-1/`)).toBe(true);
  });

  it("shows the server's refusal of an invitation", async () => {
    signIn("owner");
    routes({
      [`POST ${BASE}invitations/`]: () => ({
        status: 409,
        body: { code: "already_member", message: "bea is already a member." },
      }),
    });
    renderSettings();
    fireEvent.change(await screen.findByTestId("invite-who"), { target: { value: "bea" } });
    fireEvent.click(screen.getByTestId("invite-submit"));
    expect((await screen.findByTestId("invite-error")).textContent).toContain("already a member");
  });

  it("creates a token with scopes and expiry, shows its key once, and revokes", async () => {
    signIn("owner");
    const KEY = "alk_the-secret-key-shown-once";
    const calls = routes({
      "POST /api/v1/tokens/": (body) => ({
        status: 201,
        body: { ...token, id: "tok-2", prefix: "alk_the-se", key: KEY, ...(body as object) },
      }),
      "DELETE /api/v1/tokens/tok-2/": () => ({ status: 204 }),
    });
    renderSettings();
    await screen.findByTestId("token-row-tok-1");
    fireEvent.change(screen.getByTestId("token-name"), { target: { value: "deploy" } });
    fireEvent.click(screen.getByTestId("token-scope-run"));
    fireEvent.change(screen.getByTestId("token-expiry"), { target: { value: "30" } });
    const before = Date.now();
    fireEvent.click(screen.getByTestId("token-submit"));
    expect(((await screen.findByTestId("token-key")) as HTMLInputElement).value).toBe(KEY);
    const sent = calls.find((c) => c.method === "POST")?.body as { name: string; scopes: string[]; expires_at: string };
    expect(sent.name).toBe("deploy");
    expect(sent.scopes).toEqual(["read", "run"]);
    const days = (Date.parse(sent.expires_at) - before) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);
    expect(screen.getByTestId("token-row-tok-2").textContent).not.toContain(KEY);

    fireEvent.click(within(screen.getByTestId("token-created")).getByText("Done"));
    expect(document.body.innerHTML).not.toContain(KEY);
    fireEvent.click(within(screen.getByTestId("token-row-tok-2")).getByTestId("token-revoke"));
    await waitFor(() => expect(screen.queryByTestId("token-row-tok-2")).toBeNull());
  });

  it("lets owners change a role and remove a member after confirming", async () => {
    signIn("owner");
    const calls = routes({
      [`PATCH ${BASE}members/2/`]: (body) => ({ body: { ...members[1], ...(body as object) } }),
      [`DELETE ${BASE}members/2/`]: () => ({ status: 204 }),
    });
    renderSettings();
    const row = await screen.findByTestId("member-row-bea");
    fireEvent.change(within(row).getByTestId("member-role"), { target: { value: "viewer" } });
    await waitFor(() => expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({ role: "viewer" }));
    await waitFor(() => expect((within(row).getByTestId("member-role") as HTMLSelectElement).value).toBe("viewer"));
    fireEvent.click(within(row).getByTestId("member-remove"));
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    fireEvent.click(within(row).getByTestId("member-remove-confirm"));
    await waitFor(() => expect(screen.queryByTestId("member-row-bea")).toBeNull());
  });

  it("shows viewers the settings read-only and no invitations", async () => {
    signIn("viewer");
    routes();
    renderSettings();
    const row = await screen.findByTestId("member-row-bea");
    expect(within(row).queryByTestId("member-role")).toBeNull();
    expect(within(row).queryByTestId("member-remove")).toBeNull();
    expect(screen.queryByTestId("invitations-section")).toBeNull();
    expect((await screen.findByTestId("ws-domains")).closest("fieldset")?.disabled).toBe(true);
    expect(screen.queryByTestId("general-save")).toBeNull();
    expect(screen.getByTestId("retention-default").textContent).toBe("30");
  });

  it("saves limits and allowed domains", async () => {
    signIn("owner");
    const calls = routes({
      [`PATCH ${BASE}`]: (body) => ({ body: workspace(body as object) }),
    });
    renderSettings();
    fireEvent.change(await screen.findByTestId("ws-domains"), { target: { value: "api.openai.com\nexample.org" } });
    fireEvent.change(screen.getByTestId("ws-max-running"), { target: { value: "7" } });
    fireEvent.change(screen.getByTestId("ws-budget"), { target: { value: "12.5" } });
    fireEvent.click(screen.getByTestId("general-save"));
    await waitFor(() =>
      expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({
        name: "Demo",
        max_running_runs: 7,
        monthly_budget_usd: 12.5,
        allowed_domains: ["api.openai.com", "example.org"],
      }),
    );
  });

  it("creates a workspace and makes it the current one; switches between workspaces", async () => {
    signIn("owner", [
      { id: WS, name: "Demo", role: "owner" },
      { id: OTHER, name: "Other", role: "viewer" },
    ]);
    const NEW = "33333333-3333-3333-3333-333333333333";
    routes({
      "POST /api/v1/workspaces/": (body) => ({ status: 201, body: workspace({ id: NEW, ...(body as object) }) }),
      "GET /api/v1/me/": () => ({
        body: {
          id: 1,
          username: "demo",
          email: "",
          workspaces: [
            { id: WS, name: "Demo", role: "owner" },
            { id: OTHER, name: "Other", role: "viewer" },
            { id: NEW, name: "Lab", role: "owner" },
          ],
        },
      }),
    });
    renderSettings();
    fireEvent.click(await screen.findByTestId(`workspace-switch-${OTHER}`));
    expect(useSession.getState().workspaceId).toBe(OTHER);
    fireEvent.change(screen.getByTestId("workspace-create-name"), { target: { value: "Lab" } });
    fireEvent.click(screen.getByTestId("workspace-create-submit"));
    await waitFor(() => expect(useSession.getState().workspaceId).toBe(NEW));
    expect(useSession.getState().me?.workspaces.map((w) => w.name)).toEqual(["Demo", "Other", "Lab"]);
  });
});

describe("accept invitation page", () => {
  function renderAccept() {
    return render(
      <MemoryRouter initialEntries={[`/invitations/${TOKEN}`]}>
        <Routes>
          <Route path="/invitations/:token" element={<AcceptInvitationPage />} />
          <Route path="/workflows" element={<p data-testid="workflows">workflows</p>} />
        </Routes>
      </MemoryRouter>,
    );
  }

  it("shows the offer, accepts, and switches to the joined workspace", async () => {
    signIn("owner");
    const calls = fakeApi({
      [`GET /api/v1/invitations/${TOKEN}/`]: () => ({
        body: {
          workspace: OTHER,
          workspace_name: "Other",
          role: "editor",
          invitee: "demo@example.com",
          invited_by: "ann",
          expires_at: "2026-01-10T00:00:00Z",
        },
      }),
      [`POST /api/v1/invitations/${TOKEN}/accept/`]: () => ({ body: { id: OTHER, name: "Other", role: "editor" } }),
      "GET /api/v1/me/": () => ({
        body: {
          id: 1,
          username: "demo",
          email: "demo@example.com",
          workspaces: [
            { id: WS, name: "Demo", role: "owner" },
            { id: OTHER, name: "Other", role: "editor" },
          ],
        },
      }),
    });
    renderAccept();
    expect((await screen.findByTestId("invitation-workspace")).textContent).toBe("Other");
    fireEvent.click(screen.getByTestId("invitation-accept"));
    await screen.findByTestId("workflows");
    expect(useSession.getState().workspaceId).toBe(OTHER);
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(1);
  });

  it.each([
    [410, "invitation_expired", "has expired"],
    [410, "invitation_used", "already accepted"],
    [410, "invitation_revoked", "was revoked"],
    [404, "not_found", "not valid"],
  ])("explains a link that no longer works (%i %s)", async (status, code, words) => {
    signIn("owner");
    fakeApi({ [`GET /api/v1/invitations/${TOKEN}/`]: () => ({ status, body: { code, message: code } }) });
    renderAccept();
    expect((await screen.findByTestId("invitation-problem")).textContent).toContain(words);
    expect(screen.queryByTestId("invitation-accept")).toBeNull();
  });

  it("says so when the signed-in user is not the one invited", async () => {
    signIn("owner");
    fakeApi({
      [`GET /api/v1/invitations/${TOKEN}/`]: () => ({
        body: {
          workspace: OTHER,
          workspace_name: "Other",
          role: "editor",
          invitee: "bea",
          invited_by: "ann",
          expires_at: "2026-01-10T00:00:00Z",
        },
      }),
      [`POST /api/v1/invitations/${TOKEN}/accept/`]: () => ({
        status: 403,
        body: {
          code: "permission_denied",
          message: "This invitation is for bea; sign in as that person to accept it.",
        },
      }),
    });
    renderAccept();
    fireEvent.click(await screen.findByTestId("invitation-accept"));
    expect((await screen.findByTestId("invitation-problem")).textContent).toContain("sign in as that person");
    expect(useSession.getState().workspaceId).toBe(WS);
  });
});
