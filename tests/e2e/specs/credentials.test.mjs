// Workspace credentials through the settings page, against the real server: add one and see its hint
// but never its secret (the page's HTML and the API are searched for the secret's bytes), see the model
// picker offer it, be refused a delete while a workflow names it (with where), rotate it, and delete it.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { browserSuite, documentOf, loginUi, newPage, shooter } from "../lib/browser.mjs";

const shoot = shooter("credentials");
const suite = browserSuite();

const secret = () => `sk-e2e-${randomBytes(18).toString("hex")}`;

/** Neither the page's HTML (inputs' value attributes included) nor its text holds `value`. */
async function assertAbsent(page, value, where) {
  const html = await page.content();
  assert.ok(!html.includes(value), `the secret is not in the page's HTML (${where})`);
  assert.ok(!html.includes(value.slice(7)), `no part of the secret after its prefix is either (${where})`);
}

async function savedVersion(page) {
  const status = page.getByTestId("save-status");
  await status.and(page.locator('[data-state="saved"]')).filter({ hasText: /v\d+/ }).waitFor({ timeout: 15_000 });
  return Number(/v(\d+)/.exec(await status.textContent())[1]);
}

test("add a credential, see its hint not its secret, pick it, be refused a delete in use, rotate, delete", async () => {
  const { page, errors } = await newPage(suite.browser);
  await loginUi(page);
  errors.length = 0; // the login page's session check answers 401, as it should

  // Reachable from the main navigation.
  await page.getByTestId("nav-settings").click();
  await page.getByTestId("credentials-page").waitFor();
  assert.match(page.url(), /\/settings\/credentials$/);
  await page.getByText("No credentials yet").waitFor();

  // Add an OpenAI key.
  const first = secret();
  await page.getByTestId("credential-add").click();
  await page.getByTestId("credential-provider").selectOption("openai");
  await page.getByTestId("credential-name").fill("Team OpenAI");
  await page.getByTestId("credential-secret-api_key").fill(first);
  assert.equal(await page.getByTestId("credential-secret-api_key").getAttribute("type"), "password");
  await assertAbsent(page, first, "typed, before sending");
  await shoot(page, "add-dialog");
  await page.getByTestId("credential-add-submit").click();
  await page.getByTestId("credential-add-dialog").waitFor({ state: "detached" });

  const [created] = (await suite.api.get(`credentials/?workspace=${suite.api.workspace}`)).results;
  assert.equal(created.name, "Team OpenAI");
  assert.equal(created.hint, first.slice(-4));
  const row = page.getByTestId(`credential-row-${created.id}`);
  await row.waitFor();
  assert.equal(await row.getByTestId("credential-row-hint").textContent(), `••••${first.slice(-4)}`);
  assert.equal(await row.getByTestId("credential-row-last-used").textContent(), "never");
  await assertAbsent(page, first, "listed");
  await shoot(page, "added");

  // A workflow whose agent names it: the model picker groups the workspace's models by provider, the
  // OpenAI ones now usable through the workspace's credential, and the agent's credential select has it.
  const workflow = await suite.api.importWorkflow(
    documentOf({
      name: "E2E credential user",
      nodes: [
        ["input", "input", "Input", {}, 0, 0],
        ["writer", "researcher", "Writer", { model: "openai/gpt-4o-mini", credential: created.id }, 320, 0],
      ],
      edges: [["e1", "input", "writer"]],
    }),
  );
  await page.goto(`/workflows/${workflow.id}`);
  await page.locator('.react-flow__node[data-id="writer"]').click();
  const model = page.getByTestId("node-model");
  await model.locator("optgroup[label='OpenAI'] option[value='openai/gpt-4o-mini']").waitFor({ state: "attached" });
  const groups = await model.locator("optgroup").evaluateAll((els) => els.map((g) => g.label));
  assert.deepEqual(groups.slice(0, 2), ["Simulated", "OpenAI"]);
  const mini = model.locator("option[value='openai/gpt-4o-mini']");
  assert.equal(await mini.isDisabled(), false);
  assert.match(await mini.textContent(), /workspace credential/);
  const anthropic = model.locator("optgroup[label='Anthropic'] option").first();
  assert.equal(await anthropic.isDisabled(), true, "no Anthropic key in this workspace");
  assert.match(await anthropic.textContent(), /unavailable/);
  assert.equal(await page.getByTestId("node-credential").inputValue(), created.id);
  await shoot(page, "model-picker");

  // Deleting it now is refused, with the workflow that uses it.
  await page.getByTestId("nav-settings").click();
  await row.getByTestId("credential-delete").click();
  await page.getByTestId("credential-delete-confirm").click();
  const inUse = page.getByTestId("credential-in-use");
  await inUse.waitFor();
  assert.match(await inUse.textContent(), /1 workflow\(s\) use this credential/);
  const link = page.getByTestId("credential-in-use-workflows").getByRole("link", { name: "E2E credential user" });
  assert.equal(await link.getAttribute("href"), `/workflows/${workflow.id}`);
  await shoot(page, "delete-refused");
  await page.getByTestId("credential-delete-dialog").getByRole("button", { name: "Close" }).last().click();
  await row.getByTestId("credential-usage-toggle").click();
  await page.getByTestId(`credential-usage-${created.id}`).getByRole("link", { name: "E2E credential user" }).waitFor();

  // Rotate: the new key's hint, neither key on the page or in the API's answer.
  const second = secret();
  await row.getByTestId("credential-rotate").click();
  await page.getByTestId("credential-secret-api_key").fill(second);
  await page.getByTestId("credential-rotate-submit").click();
  await page.getByTestId("credential-rotate-dialog").waitFor({ state: "detached" });
  await row.getByTestId("credential-row-hint").filter({ hasText: `••••${second.slice(-4)}` }).waitFor();
  await assertAbsent(page, first, "rotated");
  await assertAbsent(page, second, "rotated");
  const rotated = await suite.api.get(`credentials/${created.id}/`);
  assert.equal(rotated.hint, second.slice(-4));
  for (const s of [first, second]) assert.ok(!JSON.stringify(rotated).includes(s));
  await shoot(page, "rotated");

  // Let the workflow fall back to the workspace default (from the editor), then delete the credential.
  await page.goto(`/workflows/${workflow.id}`);
  const version = await savedVersion(page);
  await page.locator('.react-flow__node[data-id="writer"]').click();
  await page.getByTestId("node-credential").selectOption("");
  assert.ok((await savedVersion(page)) > version, "the change is saved");
  const saved = await suite.api.get(`workflows/${workflow.id}/`);
  assert.ok(!("credential" in saved.document.nodes.find((n) => n.id === "writer").data.config));

  await page.getByTestId("nav-settings").click();
  await row.getByTestId("credential-delete").click();
  await page.getByTestId("credential-delete-confirm").click();
  await page.getByTestId("credential-delete-dialog").waitFor({ state: "detached" });
  await page.getByText("No credentials yet").waitFor();
  assert.deepEqual((await suite.api.get(`credentials/?workspace=${suite.api.workspace}`)).results, []);
  await assertAbsent(page, second, "deleted");
  await shoot(page, "deleted");

  // The refused delete's 409 is the only failed request (Chromium logs it as a console error).
  assert.deepEqual(
    errors.filter((e) => !/status of 409/.test(e)),
    [],
  );
});
