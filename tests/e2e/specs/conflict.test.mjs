// Two people (two browser contexts, two sessions) edit one workflow at once: the second save gets
// the conflict dialog, and merging keeps everyone's edits. Nothing is lost: not on the canvas, not
// in the saved document, not in the version history.
import assert from "node:assert/strict";
import { test } from "node:test";
import { browserSuite, documentOf, loginUi, newPage, shooter } from "../lib/browser.mjs";

const shoot = shooter("conflict");
const suite = browserSuite();

async function savedVersion(page, atLeast = 0) {
  const status = page.getByTestId("save-status");
  await status.and(page.locator('[data-state="saved"]')).filter({ hasText: /v\d+/ }).waitFor({ timeout: 15_000 });
  const v = Number(/v(\d+)/.exec(await status.textContent())[1]);
  assert.ok(v >= atLeast, `saved as v${v} (expected ≥ v${atLeast})`);
  return v;
}

/** Adds a node from the palette (a press adds it in the middle of the view, selected) and labels it. */
async function addNode(page, type, label) {
  await page.getByTestId(`palette-item-${type}`).click();
  await page.getByTestId("node-panel").waitFor();
  await page.getByTestId("node-label").fill(label);
  return page.getByTestId("node-panel-id").textContent();
}

async function selectNode(page, id) {
  await page.locator(`.react-flow__node[data-id="${id}"]`).click();
  await page.getByTestId("node-panel-id").filter({ hasText: id }).waitFor();
}

test("two browser contexts editing one workflow get the conflict dialog and lose nothing", async () => {
  const wf = await suite.api.importWorkflow(
    documentOf({
      name: "E2E shared workflow",
      nodes: [
        ["input-1", "input", "Topic"],
        ["researcher-1", "researcher", "Researcher", { prompt: "Research {{ $.run.topic }}" }, 320, 0],
        ["output-1", "output", "Result", {}, 640, 0],
      ],
      edges: [
        ["e1", "input-1", "researcher-1"],
        ["e2", "researcher-1", "output-1", { target_handle: "research" }],
      ],
    }),
  );

  const a = await newPage(suite.browser);
  const b = await newPage(suite.browser);
  await loginUi(a.page);
  await loginUi(b.page);
  for (const { page } of [a, b]) {
    await page.goto(`/workflows/${wf.id}`);
    await page.locator('.react-flow__node[data-id="researcher-1"]').waitFor();
    await savedVersion(page, 1);
  }

  // A adds a coder and renames the researcher; A's save goes through as v2.
  assert.equal(await addNode(a.page, "coder", "Coder from A"), "coder-1");
  await selectNode(a.page, "researcher-1");
  await a.page.getByTestId("node-label").fill("Researcher (renamed by A)");
  assert.equal(await savedVersion(a.page, 2), 2);
  await shoot(a.page, "a-saved-v2");

  // B, still on v1, adds a coder too (the same id, coder-1), wires it, and edits the researcher's prompt.
  assert.equal(await addNode(b.page, "coder", "Coder from B"), "coder-1");
  await b.page.getByTestId("connect-to-select").selectOption("output-1");
  await b.page.getByTestId("connect-to-button").click();
  await b.page.getByTestId("rf__edge-e3").waitFor();
  await selectNode(b.page, "researcher-1");
  await b.page.getByTestId("node-prompt").fill("Research {{ $.run.topic }} with sources");

  // B's save is refused (409): the dialog shows theirs beside mine, and what merging does.
  const dialog = b.page.getByTestId("conflict-dialog");
  await dialog.waitFor({ timeout: 15_000 });
  await b.page.getByTestId("conflict-merge-summary").waitFor();
  assert.equal(await b.page.getByTestId("save-status").getAttribute("data-state"), "conflict");
  assert.match(await b.page.getByTestId("conflict-theirs").textContent(), /v2/);
  assert.match(await b.page.getByTestId("conflict-mine").textContent(), /v1/);
  // Each side's own changes since v1.
  const items = (testId) => b.page.getByTestId(testId).locator("li").allTextContents();
  assert.deepEqual(await items("conflict-their-changes"), ["+ node coder-1", "~ node researcher-1: data.label"]);
  assert.deepEqual(await items("conflict-diff"), ["+ node coder-1", "~ node researcher-1: data.config.prompt", "+ edge e3"]);
  const summary = await b.page.getByTestId("conflict-merge-summary").textContent();
  assert.match(summary, /coder-1 becomes coder-2/);
  assert.match(summary, /Nothing you both changed/);
  await shoot(b.page, "b-conflict-dialog");

  // Merge both: saved as v3 with A's and B's edits.
  await b.page.getByTestId("conflict-merge").click();
  await dialog.waitFor({ state: "detached" });
  assert.equal(await savedVersion(b.page, 3), 3);
  for (const id of ["coder-1", "coder-2", "researcher-1"]) await b.page.locator(`.react-flow__node[data-id="${id}"]`).waitFor();
  await shoot(b.page, "b-merged-v3");

  const v3 = await suite.api.get(`workflows/${wf.id}/`);
  assert.equal(v3.version, 3);
  const byId = Object.fromEntries(v3.document.nodes.map((n) => [n.id, n]));
  assert.equal(byId["coder-1"].data.label, "Coder from A");
  assert.equal(byId["coder-2"].data.label, "Coder from B");
  assert.equal(byId["researcher-1"].data.label, "Researcher (renamed by A)");
  assert.equal(byId["researcher-1"].data.config.prompt, "Research {{ $.run.topic }} with sources");
  const e3 = v3.document.edges.find((e) => e.id === "e3");
  assert.deepEqual([e3.source, e3.target, e3.target_handle], ["coder-2", "output-1", "coder-2"], "B's edge follows B's renamed coder");
  assert.deepEqual(v3.problems.filter((p) => p.severity === "error"), []);

  // A, now behind, edits again: A gets the dialog too, merges, and sees B's work.
  await selectNode(a.page, "coder-1");
  await a.page.getByTestId("node-temperature").fill("1.1");
  await a.page.getByTestId("conflict-dialog").waitFor({ timeout: 15_000 });
  await a.page.getByTestId("conflict-merge-summary").waitFor();
  await shoot(a.page, "a-conflict-dialog");
  await a.page.getByTestId("conflict-merge").click();
  assert.equal(await savedVersion(a.page, 4), 4);
  await a.page.locator('.react-flow__node[data-id="coder-2"]').waitFor();
  await a.page.getByTestId("rf__edge-e3").waitFor();
  await shoot(a.page, "a-merged-v4");

  // Nothing lost: the final document has all four edits; the history has each step.
  const v4 = await suite.api.get(`workflows/${wf.id}/`);
  const final = Object.fromEntries(v4.document.nodes.map((n) => [n.id, n]));
  assert.equal(final["coder-1"].data.label, "Coder from A");
  assert.equal(final["coder-1"].data.config.temperature, 1.1);
  assert.equal(final["coder-2"].data.label, "Coder from B");
  assert.equal(final["researcher-1"].data.label, "Researcher (renamed by A)");
  assert.equal(final["researcher-1"].data.config.prompt, "Research {{ $.run.topic }} with sources");
  assert.equal(v4.document.edges.length, 3);
  const versions = await suite.api.get(`workflows/${wf.id}/versions/`);
  assert.deepEqual(
    versions.results.map((v) => v.number),
    [4, 3, 2, 1],
  );
  const v2 = await suite.api.get(`workflows/${wf.id}/versions/2/`);
  assert.deepEqual(
    v2.document.nodes.map((n) => n.id),
    ["input-1", "researcher-1", "output-1", "coder-1"],
    "A's own save is kept as v2",
  );

  // And each page, reloaded, shows the same final graph.
  for (const { page } of [a, b]) {
    await page.reload();
    for (const id of ["input-1", "researcher-1", "output-1", "coder-1", "coder-2"]) await page.locator(`.react-flow__node[data-id="${id}"]`).waitFor();
    assert.equal(await page.locator(".react-flow__node").count(), 5);
    assert.equal(await savedVersion(page), 4);
  }
  await a.context.close();
  await b.context.close();
});
