// A first sign-in into an empty workspace: the workflows page welcomes the newcomer with templates and a
// one-click demo, and the demo makes a workflow from a built-in template on the offline `mock/*` models,
// starts it and lands on its run, which succeeds. Accounts are made by operators (there is no sign-up), so
// the newcomer here is the demo account in a workspace of its own that has nothing in it yet.
import assert from "node:assert/strict";
import { test } from "node:test";
import { browserSuite, loginUi, newPage, shooter, until } from "../lib/browser.mjs";

const shoot = shooter("welcome");
const suite = browserSuite();

test("first sign-in into an empty workspace: the welcome, then a demo run that succeeds", async () => {
  const api = suite.api;
  const workspace = await api.post("workspaces/", { name: `First steps ${Date.now()}` });
  const { context, page, errors } = await newPage(suite.browser);
  // The app opens the workspace last chosen in this browser (the switcher's choice).
  await context.addInitScript((id) => localStorage.setItem("agentloom.workspace", id), workspace.id);
  await loginUi(page);
  errors.length = 0; // the login page's session check answers 401, as it should

  await page.goto("/workflows");
  const welcome = page.getByTestId("welcome");
  await welcome.waitFor();
  const offered = welcome.getByTestId("welcome-templates").getByRole("listitem");
  await offered.first().waitFor();
  assert.equal(await offered.count(), 3, "a few templates are offered");
  assert.equal(await welcome.getByRole("button", { name: "Use template" }).count(), 3);
  const builtIn = (await api.get("templates/")).filter((t) => t.built_in);
  assert.ok(builtIn.length > 3, "the rest are one link away");
  await welcome.getByTestId("welcome-all-templates").waitFor();
  await shoot(page, "welcome");

  await page.getByTestId("welcome-demo-run").click();
  await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
  const runId = page.url().split("/").pop();
  const state = page.getByTestId("run-state");
  await until(async () => (await state.getAttribute("data-state")) === "succeeded", {
    timeout: 30_000,
    message: "the demo run succeeds",
  });
  await shoot(page, "demo-run");

  // The run is in the newcomer's workspace, on the offline models only.
  const run = await api.get(`runs/${runId}/`);
  assert.equal(run.state, "succeeded");
  const workflow = await api.get(`workflows/${run.workflow}/`);
  assert.equal(workflow.workspace, workspace.id);
  assert.match(workflow.name, /\(demo\)$/);
  const models = workflow.document.nodes.map((n) => n.data?.config?.model).filter(Boolean);
  assert.ok(models.length > 0 && models.every((m) => m.startsWith("mock/")), `offline models only: ${models}`);

  // Back on the list: the workspace is no longer empty, so no welcome.
  await page.goto("/workflows");
  await page.getByTestId(`workflow-row-${workflow.id}`).waitFor();
  assert.equal(await page.getByTestId("welcome").count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});
