// The editor against the real server: log in, drag nodes, connect, configure, save, reload and find
// the workflow intact (on the canvas, in the panels, and through the API).
import assert from "node:assert/strict";
import { test } from "node:test";
import { browserSuite, flowPositions, mouseDrag, centre, newPage, shooter } from "../lib/browser.mjs";

const shoot = shooter("editor");
const suite = browserSuite();

const node = (page, id) => page.locator(`.react-flow__node[data-id="${id}"]`);
const handle = (page, id, kind) => node(page, id).locator(`.react-flow__handle.${kind}`);

async function clickPane(page) {
  const box = await page.getByTestId("editor-canvas").boundingBox();
  await page.mouse.click(box.x + 40, box.y + 40);
}

async function savedVersion(page) {
  const status = page.getByTestId("save-status");
  await status.and(page.locator('[data-state="saved"]')).waitFor({ timeout: 15_000 });
  const m = /v(\d+)/.exec(await status.textContent());
  return Number(m[1]);
}

function assertPositionsMatch(onCanvas, doc) {
  for (const n of doc.nodes) {
    const p = onCanvas[n.id];
    assert.ok(p, `node ${n.id} is on the canvas`);
    assert.ok(Math.abs(p.x - n.position.x) < 0.5 && Math.abs(p.y - n.position.y) < 0.5, `${n.id} at ${JSON.stringify(p)} on the canvas, ${JSON.stringify(n.position)} saved`);
  }
}

test("log in, drag nodes, connect, configure, save, reload and find it intact", async () => {
  const { page, context } = await newPage(suite.browser);

  // Log in through the form.
  await page.goto("/workflows");
  await page.waitForURL(/\/login/);
  await page.getByLabel("Username").fill("demo");
  await page.getByLabel("Password").fill("demo");
  await shoot(page, "login");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByTestId("workflows-page").waitFor();
  assert.match(page.url(), /\/workflows$/);
  await shoot(page, "workflows");

  // New workflow.
  await page.getByTestId("create-workflow").click();
  await page.getByTestId("create-name").fill("E2E pipeline");
  await page.getByTestId("create-submit").click();
  await page.waitForURL(/\/workflows\/[0-9a-f-]{36}$/);
  const id = page.url().split("/").pop();
  const canvas = page.getByTestId("editor-canvas");
  await canvas.waitFor();
  assert.equal(await page.locator(".react-flow__node").count(), 0);

  // Drag three node types from the palette onto the canvas.
  await page.getByTestId("palette-item-input").dragTo(canvas, { targetPosition: { x: 160, y: 220 } });
  await page.getByTestId("palette-item-researcher").dragTo(canvas, { targetPosition: { x: 460, y: 220 } });
  await page.getByTestId("palette-item-output").dragTo(canvas, { targetPosition: { x: 760, y: 220 } });
  for (const nid of ["input-1", "researcher-1", "output-1"]) await node(page, nid).waitFor();
  await shoot(page, "dropped-nodes");

  // Connect handle to handle with the mouse.
  await mouseDrag(page, await centre(handle(page, "input-1", "source")), await centre(handle(page, "researcher-1", "target")));
  await page.getByTestId("rf__edge-e1").waitFor();
  await mouseDrag(page, await centre(handle(page, "researcher-1", "source")), await centre(handle(page, "output-1", "target")));
  await page.getByTestId("rf__edge-e2").waitFor();
  // Connecting the same pair again is refused, and the editor says why.
  await mouseDrag(page, await centre(handle(page, "researcher-1", "source")), await centre(handle(page, "output-1", "target")));
  await page.getByTestId("connection-refused").filter({ hasText: "already connected" }).waitFor();
  assert.equal(await page.locator(".react-flow__edge").count(), 2, "no duplicate edge");

  // Move a node by dragging it.
  const before = (await flowPositions(page))["output-1"];
  const outCentre = await centre(node(page, "output-1"));
  await mouseDrag(page, outCentre, { x: outCentre.x, y: outCentre.y + 140 });
  const moved = (await flowPositions(page))["output-1"];
  assert.ok(moved.y - before.y > 100, `output-1 moved down (${before.y} → ${moved.y})`);
  await shoot(page, "connected");

  // Configure the researcher in the side panel.
  await node(page, "researcher-1").click();
  const panel = page.getByTestId("node-panel");
  await panel.waitFor();
  await page.getByTestId("node-label").fill("Researcher A");
  await page.getByTestId("node-model").selectOption("mock/slow");
  await page.getByTestId("node-temperature").fill("0.3");
  await page.getByTestId("node-prompt").fill("Research {{ $.run.topic }} in depth");
  await shoot(page, "node-configured");

  // Configure the edge into the output: its input key.
  await page.getByTestId("rf__edge-e2").click();
  await page.getByTestId("edge-panel").waitFor();
  await page.getByTestId("edge-target-handle").fill("research");

  // Declare the run input in the workflow panel (click the empty canvas to deselect).
  await clickPane(page);
  await page.getByTestId("workflow-panel").waitFor();
  await page.getByTestId("add-input").click();
  await page.getByTestId("input-decl-input_1").getByTestId("input-name").fill("topic");
  await page.getByTestId("input-decl-input_1").getByTestId("input-name").press("Tab");
  await page.getByTestId("input-decl-topic").getByTestId("input-required").check();

  // Auto-save: the status goes dirty → saving → saved.
  assert.notEqual(await page.getByTestId("save-status").getAttribute("data-state"), "saved");
  const version = await savedVersion(page);
  assert.ok(version >= 2, `saved as a new version (v${version})`);
  await shoot(page, "saved");

  // The server has exactly what the editor shows.
  const saved = await suite.api.get(`workflows/${id}/`);
  assert.equal(saved.version, version);
  const doc = saved.document;
  assert.deepEqual(
    doc.nodes.map((n) => [n.id, n.type]),
    [
      ["input-1", "input"],
      ["researcher-1", "researcher"],
      ["output-1", "output"],
    ],
  );
  const researcher = doc.nodes.find((n) => n.id === "researcher-1");
  assert.equal(researcher.data.label, "Researcher A");
  assert.equal(researcher.data.config.model, "mock/slow");
  assert.equal(researcher.data.config.temperature, 0.3);
  assert.equal(researcher.data.config.prompt, "Research {{ $.run.topic }} in depth");
  assert.deepEqual(
    doc.edges.map((e) => [e.id, e.source, e.target, e.target_handle]),
    [
      ["e1", "input-1", "researcher-1", "input-1"],
      ["e2", "researcher-1", "output-1", "research"],
    ],
  );
  assert.deepEqual(Object.keys(doc.inputs), ["topic"]);
  assert.equal(doc.inputs.topic.required, true);
  assert.deepEqual(saved.problems.filter((p) => p.severity === "error"), []);
  assertPositionsMatch(await flowPositions(page), doc);

  // Reload: the same graph, in the same place, with the same configuration.
  await page.reload();
  for (const nid of ["input-1", "researcher-1", "output-1"]) await node(page, nid).waitFor();
  await page.getByTestId("rf__edge-e1").waitFor();
  await page.getByTestId("rf__edge-e2").waitFor();
  assert.equal(await page.locator(".react-flow__node").count(), 3);
  assert.equal(await page.locator(".react-flow__edge").count(), 2);
  assertPositionsMatch(await flowPositions(page), doc);
  assert.match(await node(page, "researcher-1").textContent(), /Researcher A/);
  await shoot(page, "reloaded");

  await node(page, "researcher-1").click();
  await page.getByTestId("node-panel").waitFor();
  assert.equal(await page.getByTestId("node-label").inputValue(), "Researcher A");
  assert.equal(await page.getByTestId("node-model").inputValue(), "mock/slow");
  assert.equal(await page.getByTestId("node-temperature").inputValue(), "0.3");
  assert.equal(await page.getByTestId("node-prompt").inputValue(), "Research {{ $.run.topic }} in depth");
  await shoot(page, "reloaded-node-panel");
  await page.getByTestId("rf__edge-e2").click();
  assert.equal(await page.getByTestId("edge-target-handle").inputValue(), "research");
  await clickPane(page);
  assert.equal(await page.getByTestId("input-decl-topic").getByTestId("input-name").inputValue(), "topic");

  // Looking is not editing: nothing was saved by the reload or the selections.
  assert.equal(await page.getByTestId("save-status").getAttribute("data-state"), "saved");
  assert.equal((await suite.api.get(`workflows/${id}/`)).version, version);
  await context.close();
});
