// The canvas under the server's Content-Security-Policy (server/core/security.py): every page of the
// app, the layout worker, the live socket and the admin's login run with no violation reported,
// neither as a `securitypolicyviolation` event nor on the console.
import assert from "node:assert/strict";
import { test } from "node:test";
import { browserSuite, documentOf, loginUi, newPage, shooter, until } from "../lib/browser.mjs";

const shoot = shooter("csp");
const suite = browserSuite();

/** Records each violation the page reports, from before its first script runs. */
function recordViolations() {
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
  });
}

test("the canvas runs under the server's CSP with no violation", async () => {
  const { page, context, errors } = await newPage(suite.browser);
  await context.addInitScript(recordViolations);
  // Each document keeps its own list: read it before leaving the page.
  const seen = [];
  const leave = async () => seen.push(...(await page.evaluate(() => window.__cspViolations ?? [])));
  const cspErrors = () => errors.filter((e) => /Content[- ]Security[- ]Policy/i.test(e));
  const api = suite.api;
  const wf = await api.importWorkflow(
    documentOf({
      name: "E2E CSP",
      nodes: [
        ["in", "input", "Topic"],
        ["writer", "researcher", "Writer", { model: "mock/echo", prompt: "About {{ $.run.topic }}" }, 320, 0],
        ["out", "output", "Result", {}, 640, 0],
      ],
      edges: [
        ["e1", "in", "writer"],
        ["e2", "writer", "out"],
      ],
    }),
  );

  const answer = await page.goto("/login");
  const policy = answer.headers()["content-security-policy"] ?? "";
  assert.match(policy, /script-src 'self'(;|$)/, `the page is served with the CSP (got "${policy}")`);
  await loginUi(page);

  // The check can fail: an inline script is a violation, and it is seen.
  await page.evaluate(() => {
    const script = document.createElement("script");
    script.textContent = "window.__inlineRan = true";
    document.head.append(script);
  });
  await until(() => page.evaluate(() => window.__cspViolations.length > 0), { message: "the probe's violation" });
  assert.equal(await page.evaluate(() => window.__inlineRan ?? false), false, "the inline script was blocked");
  await until(() => cspErrors().length > 0, { message: "the probe's console error" });
  errors.length = 0;

  // The editor, and auto-layout in its module worker.
  await page.goto(`/workflows/${wf.id}`);
  await page.getByTestId("editor-canvas").waitFor();
  const out = page.locator('.react-flow__node[data-id="out"]');
  await out.waitFor();
  const before = await out.getAttribute("style");
  await page.getByTestId("auto-layout").click();
  await until(async () => (await out.getAttribute("style")) !== before, { message: "auto-layout to move a node" });
  await shoot(page, "editor-after-layout");
  await leave();

  // A run, watched live over the websocket to its end.
  const run = await api.post(`workflows/${wf.id}/runs/`, { inputs: { topic: "policies" } });
  await page.goto(`/runs/${run.id}`);
  await page.getByTestId("stream-status").filter({ hasText: "done" }).waitFor({ timeout: 30_000 });
  await shoot(page, "run-done");
  await leave();

  for (const [path, testId] of [
    ["/workflows", "workflows-page"],
    ["/runs", "runs-page"],
    ["/templates", "templates-page"],
    ["/settings/credentials", "credentials-page"],
  ]) {
    await page.goto(path);
    await page.getByTestId(testId).waitFor();
    await page.waitForLoadState("networkidle");
    await leave();
  }
  // The admin's own templates (inline style attributes, its scripts from /static/).
  await page.goto("/admin/login/");
  await page.waitForLoadState("networkidle");
  await shoot(page, "admin-login");
  await leave();

  assert.deepEqual([...seen, ...cspErrors()], []);
  await context.close();
});
