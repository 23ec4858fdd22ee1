// An approval node in the browser, against the real server and workers (SPEC §12): the run waits
// with the node showing its message, the header counts one approval waiting for the signed-in owner,
// Approve with a comment moves the run on along the `approved` edge, and the decision is in the
// node and the run's logs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { browserSuite, documentOf, loginUi, newPage, shooter, until } from "../lib/browser.mjs";

const shoot = shooter("approval");
let api;
let page;

browserSuite(async (suite) => {
  api = suite.api;
  ({ page } = await newPage(suite.browser));
  await loginUi(page);
});

test("an approval waits, is approved from its node with a comment, and the run finishes", async () => {
  const wf = await api.importWorkflow(
    documentOf({
      name: "E2E approval",
      nodes: [
        ["in", "input", "Topic"],
        ["gate", "approval", "Publish?", { message: "Publish a post about {{ $.run.topic }}?" }, 320, 0],
        ["ship", "transformer", "Ship", { expression: "'shipped ' & gate.input.in.topic" }, 640, -80],
        ["redo", "transformer", "Redo", { expression: "'redo'" }, 640, 80],
        ["out", "output", "Result", {}, 960, 0],
      ],
      edges: [
        ["e1", "in", "gate"],
        ["e2", "gate", "ship", { label: "approved" }],
        ["e3", "gate", "redo", { label: "rejected" }],
        ["e4", "ship", "out", { target_handle: "ship" }],
        ["e5", "redo", "out", { target_handle: "redo" }],
      ],
    }),
  );
  const run = await api.post(`workflows/${wf.id}/runs/`, { inputs: { topic: "boats" } });
  await page.goto(`/runs/${run.id}`);
  const state = page.getByTestId("node-state-gate");
  await until(async () => (await state.getAttribute("data-state")) === "waiting", { message: "the approval to wait" });
  assert.match((await page.getByTestId("approval-gate").textContent()) ?? "", /Publish a post about boats\?/);
  const count = page.getByTestId("waiting-for-you");
  await until(async () => (await count.textContent()) === "1 waiting for you", { message: "the header's count" });
  await shoot(page, "waiting");

  await page.getByTestId("approval-comment-gate").fill("ship it");
  await page.getByTestId("approve-gate").click();
  await until(async () => (await page.getByTestId("run-state").getAttribute("data-state")) === "succeeded", {
    message: "the run to succeed",
  });
  assert.equal(await page.getByTestId("node-state-redo").getAttribute("data-state"), "skipped");
  assert.equal((await page.getByTestId("approval-decision-gate").textContent())?.trim(), "Approved by demo: ship it");
  await until(async () => (await count.count()) === 0, { message: "the header's count to clear" });
  await shoot(page, "approved");

  const detail = await api.get(`runs/${run.id}/`);
  assert.deepEqual(detail.output, { out: { ship: "shipped boats" } });
  const { events } = await api.get(`runs/${run.id}/events/?after=0`);
  const decided = events.filter((e) => e.type === "node.decided");
  assert.deepEqual(
    decided.map((e) => e.data),
    [{ decision: "approve", by: "demo", comment: "ship it", timed_out: false }],
  );
});
