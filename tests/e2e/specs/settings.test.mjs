// The workspace settings page against the real server: an owner invites someone by email and copies the
// link; the invited person, in a second browser context (another cookie jar), opens it, signs in, accepts
// and lands in the workspace with the role offered; the used link then says so. A revoked invitation's
// link is refused. An API token is created with one scope, its key shown once, works, and stops working
// once revoked. Accounts are made by operators (there is no sign-up), so the invited user is made here
// with manage.py against the e2e database.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { baseUrl, browserSuite, E2E_DIR, loginUi, newPage, shooter } from "../lib/browser.mjs";

const shoot = shooter("settings");
const suite = browserSuite();
const ROOT = path.resolve(E2E_DIR, "../..");

/** A user with an email and no workspace, in the database tests/e2e/server.sh serves. */
function createUser(username, email, password) {
  const code =
    "import os; from django.contrib.auth import get_user_model; get_user_model().objects.create_user(" +
    "username=os.environ['E2E_NEW_USER'], email=os.environ['E2E_NEW_EMAIL'], password=os.environ['E2E_NEW_PASSWORD'])";
  execFileSync(path.join(ROOT, ".venv/bin/python"), ["manage.py", "shell", "-c", code], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...process.env,
      E2E_NEW_USER: username,
      E2E_NEW_EMAIL: email,
      E2E_NEW_PASSWORD: password,
      DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${process.env.E2E_DB || "agentloom_e2e"}`,
      REDIS_URL: `redis://127.0.0.1:6379/${process.env.E2E_REDIS_DB || "3"}`,
      SECRET_KEY: process.env.SECRET_KEY || "e2e",
      AGENTLOOM_ENCRYPTION_KEYS:
        process.env.AGENTLOOM_ENCRYPTION_KEYS || "YWdlbnRsb29tLWUyZS0tZW5jcnlwdGlvbi1rZXkhISE=",
    },
  });
}

async function invite(page, who, role) {
  await page.getByTestId("invite-who").fill(who);
  await page.getByTestId("invite-role").selectOption(role);
  await page.getByTestId("invite-submit").click();
  const link = await page.getByTestId("invite-link").inputValue();
  assert.match(link, /\/invitations\/[A-Za-z0-9_-]{43}$/);
  return new URL(link).pathname;
}

test("invite by email, accept in a second browser context, revoke an invitation, revoke a token", async () => {
  const api = suite.api;
  const workspace = await api.post("workspaces/", { name: `Team ${Date.now()}` });
  const invitee = `eve${Date.now()}`;
  createUser(invitee, `${invitee}@example.com`, "pw-e2e-invitee");

  const { context, page, errors } = await newPage(suite.browser);
  await context.addInitScript((id) => localStorage.setItem("agentloom.workspace", id), workspace.id);
  await loginUi(page);
  errors.length = 0; // the login page's session check answers 401, as it should

  // Reachable from the main navigation.
  await page.getByTestId("nav-workspace").click();
  await page.getByTestId("settings-page").waitFor();
  assert.match(page.url(), /\/settings\/workspace$/);
  await page.getByTestId("member-row-demo").waitFor();
  assert.equal(await page.getByTestId("member-list").locator("tbody tr").count(), 1);

  // Invite by email: the link is shown once, with a copy button.
  const link = await invite(page, `${invitee}@example.com`, "editor");
  await page.getByTestId("invite-link-copy").waitFor();
  const pending = await api.get(`workspaces/${workspace.id}/invitations/`);
  assert.equal(pending.length, 1);
  assert.equal(pending[0].role, "editor");
  assert.ok(!JSON.stringify(pending).includes(link.split("/").pop()), "the token is never listed");
  await shoot(page, "invited");

  // Nobody is a member before accepting.
  let members = await api.get(`workspaces/${workspace.id}/members/`);
  assert.deepEqual(
    members.map((m) => m.username),
    ["demo"],
  );

  // The invited person, in a browser of their own: the link asks them to sign in, then offers the role.
  const guest = await newPage(suite.browser);
  await guest.page.goto(link);
  await guest.page.waitForURL((u) => u.pathname === "/login");
  await guest.page.getByLabel("Username").fill(invitee);
  await guest.page.getByLabel("Password").fill("pw-e2e-invitee");
  await guest.page.getByRole("button", { name: "Log in" }).click();
  await guest.page.getByTestId("invitation-offer").waitFor();
  assert.equal(await guest.page.getByTestId("invitation-workspace").textContent(), workspace.name);
  await shoot(guest.page, "offer");
  await guest.page.getByTestId("invitation-accept").click();
  await guest.page.waitForURL((u) => u.pathname === "/workflows");
  await guest.page.getByText(workspace.name).first().waitFor();
  await shoot(guest.page, "joined");

  members = await api.get(`workspaces/${workspace.id}/members/`);
  assert.deepEqual(
    members.map((m) => [m.username, m.role]),
    [
      ["demo", "owner"],
      [invitee, "editor"],
    ],
  );
  assert.deepEqual(await api.get(`workspaces/${workspace.id}/invitations/`), []);

  // The used link says so.
  await guest.page.goto(link);
  assert.match(await guest.page.getByTestId("invitation-problem").textContent(), /already accepted/);

  // The owner sees the new member; an invitation revoked before it is used is refused.
  await page.reload();
  await page.getByTestId(`member-row-${invitee}`).waitFor();
  const revokedLink = await invite(page, "nobody@example.com", "viewer");
  const [revoked] = await api.get(`workspaces/${workspace.id}/invitations/`);
  await page.getByTestId(`invitation-row-${revoked.id}`).getByTestId("invitation-revoke").click();
  await page.getByTestId("invitations-empty").waitFor();
  await guest.page.goto(revokedLink);
  assert.match(await guest.page.getByTestId("invitation-problem").textContent(), /revoked/);

  // An API token: one scope, the key shown once, usable, then revoked.
  const tokenName = `e2e-settings-${Date.now()}`;
  await page.getByTestId("token-name").fill(tokenName);
  await page.getByTestId("token-expiry").selectOption("7");
  await page.getByTestId("token-submit").click();
  const shown = await page.getByTestId("token-key").inputValue();
  assert.match(shown, /^alk_/);
  const row = page.locator("[data-testid^='token-row-']").filter({ hasText: tokenName });
  assert.ok(!(await row.textContent()).includes(shown), "the list never holds the key");
  await shoot(page, "token-created");
  const me = (k) => fetch(`${baseUrl()}/api/v1/me/`, { headers: { Authorization: `Token ${k}` } });
  assert.equal((await me(shown)).status, 200);
  const tokens = await api.get("tokens/");
  const made = tokens.find((t) => t.name === tokenName);
  assert.deepEqual(made.scopes, ["read"]);
  const days = (Date.parse(made.expires_at) - Date.now()) / 86_400_000;
  assert.ok(days > 6.9 && days < 7.1, `expires in 7 days (${days})`);
  await row.getByTestId("token-revoke").click();
  await row.waitFor({ state: "detached" });
  assert.equal((await me(shown)).status, 401);
  await shoot(page, "token-revoked");

  assert.deepEqual(errors, []);
  assert.deepEqual(
    guest.errors.filter((e) => !/401|410|Unauthorized|Gone/.test(e)),
    [],
  );
});
