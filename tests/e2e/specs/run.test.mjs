// Runs against the real server and workers, on the mock/* models: start from the editor, watch
// statuses and tokens arrive live, reload mid-run, cancel, resume, reopen a past run, download a
// large output. Fixture workflows are arranged through the API; everything asserted is what the
// user sees, cross-checked with the API where it says more.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { browserSuite, documentOf, loginUi, newPage, shooter, until } from "../lib/browser.mjs";

const shoot = shooter("run");
const TERMINAL = ["succeeded", "failed", "cancelled"];
let api;
/** One logged-in page for every test (closed with the browser). */
let page;
/** The run of the first test, reopened from the history in a later one. */
let pastRun = null;

browserSuite(async (suite) => {
  api = suite.api;
  ({ page } = await newPage(suite.browser));
  await loginUi(page);
});

const state = (id) => page.getByTestId(`node-state-${id}`);
const tokens = (id) => page.getByTestId(`node-tokens-${id}`);
const text = async (locator) => (await locator.textContent()) ?? "";
/** Waits until the element's data-state is one of `states`. */
async function waitState(locator, states, timeout = 15_000) {
  const list = [].concat(states);
  await until(async () => list.includes(await locator.getAttribute("data-state")), { timeout, message: `${locator} in ${list}` });
  return locator.getAttribute("data-state");
}
/** The streamed text on a node card (the card shows the tail: "…" + last 280 characters). */
async function streamed(id) {
  return (await text(tokens(id))).replace(/^…/, "");
}

const STORY_PROMPT =
  "Write a long and careful story about {{ $.run.topic }} that covers the history, the people, the science, " +
  "the open questions and what comes next, in plain words, one idea at a time, so that anyone can follow.";

test("run on mock/* from the editor: live statuses and tokens, reload mid-run", async () => {
  const wf = await api.importWorkflow(
    documentOf({
      name: "E2E live run",
      nodes: [
        ["in", "input", "Topic"],
        ["writer", "researcher", "Writer", { model: "mock/slow", mock_latency_ms: 9000, prompt: STORY_PROMPT }, 320, 0],
        ["facts", "coder", "Facts", { model: "mock/json", prompt: "Facts about {{ $.run.topic }}" }, 320, 160],
        [
          "flaky",
          "reviewer",
          "Flaky reviewer",
          { model: "mock/flaky", mock_failures: 1, retry: { max_attempts: 3, backoff: "fixed", initial_delay_ms: 400, max_delay_ms: 1000, jitter: false } },
          320,
          320,
        ],
        ["broken", "researcher", "Broken", { model: "mock/error", on_error: "continue" }, 320, 480],
        ["after", "transformer", "After broken", { expression: "$" }, 640, 480],
        ["out", "output", "Result", {}, 640, 160],
      ],
      edges: [
        ["e1", "in", "writer"],
        ["e2", "in", "facts"],
        ["e3", "in", "flaky"],
        ["e4", "in", "broken"],
        ["e5", "broken", "after"],
        ["e6", "writer", "out", { target_handle: "story" }],
        ["e7", "facts", "out", { target_handle: "facts" }],
        ["e8", "flaky", "out", { target_handle: "review" }],
      ],
    }),
  );

  // Start it the way a user does: the editor's Run button, the inputs form, the estimate.
  await page.goto(`/workflows/${wf.id}`);
  await page.getByTestId("run-button").click();
  await page.getByTestId("run-dialog").waitFor();
  await page.getByTestId("run-input-topic").fill("tides");
  await page.getByTestId("estimate-total-tokens").waitFor();
  assert.match(await text(page.getByTestId("estimate-total-tokens")), /^[\d,]+$/);
  await shoot(page, "run-dialog");
  await page.getByTestId("run-submit").click();
  await page.waitForURL(/\/runs\/[0-9a-f-]{36}/);
  const runId = new URL(page.url()).pathname.split("/").pop();
  pastRun = { id: runId, workflow: wf.id };

  // Live: the writer runs and its tokens arrive while we watch.
  await waitState(page.getByTestId("run-state"), ["queued", "running"]);
  await waitState(state("writer"), "running");
  await until(async () => (await streamed("writer")).length > 0, { message: "first tokens" });
  const first = await streamed("writer");
  await until(async () => (await streamed("writer")).length > first.length + 10, { message: "more tokens" });
  const grown = await streamed("writer");
  assert.ok(grown.startsWith(first), "tokens append");
  const expected = `Echo: ${STORY_PROMPT.replace("{{ $.run.topic }}", "tides")}`;
  assert.ok(expected.startsWith(grown), `the streamed text is the start of the answer: ${JSON.stringify(grown)}`);
  assert.match(await text(page.getByTestId("run-active-counts")), /\d+ · [1-9]\d* · \d+/, "at least one node running");
  assert.equal(await page.getByTestId("run-state").getAttribute("data-state"), "running");
  // Other branches settle meanwhile: a JSON answer, a retry that succeeds, a failure and its skip.
  await waitState(state("facts"), "succeeded");
  await waitState(state("broken"), "failed");
  await waitState(state("after"), "skipped");
  await waitState(state("flaky"), "succeeded");
  assert.match(await text(state("flaky")), /·2/, "the flaky reviewer succeeded on its second attempt");
  await page.getByTestId("log-row").filter({ hasText: /retrying in 400 ms/ }).first().waitFor();
  assert.equal(await state("writer").getAttribute("data-state"), "running", "still running before the reload");
  await shoot(page, "live-tokens");

  // Reload mid-run: the view is rebuilt from the event log and keeps streaming.
  const beforeReload = await streamed("writer");
  await page.reload();
  // The card's text comes back from the replayed log (the text area itself is there from the start).
  await until(async () => (await streamed("writer")).length >= Math.min(beforeReload.length, 281), { message: "the streamed text replayed" });
  const afterReload = await streamed("writer");
  assert.ok(afterReload.startsWith(beforeReload.slice(0, 200)), "the text streamed before the reload is all there");
  assert.ok(afterReload.length >= Math.min(beforeReload.length, 281));
  await waitState(state("facts"), "succeeded");
  await waitState(state("broken"), "failed");
  if ((await state("writer").getAttribute("data-state")) === "running") {
    await shoot(page, "reloaded-mid-run");
    await until(async () => (await streamed("writer")).length > afterReload.length, { message: "tokens after the reload" });
  } else {
    assert.fail("the writer finished before the reload completed; the run is too short to test a reload mid-run");
  }

  // The end: the run fails because one node failed (error policy "continue" let the rest finish).
  await waitState(page.getByTestId("run-state"), TERMINAL, 20_000);
  const run = await api.get(`runs/${runId}/`);
  assert.equal(run.state, "failed");
  assert.equal(await page.getByTestId("run-state").getAttribute("data-state"), "failed");
  for (const n of run.nodes) assert.equal(await state(n.node_id).getAttribute("data-state"), n.state, `state of ${n.node_id}`);
  assert.equal(await text(page.getByTestId("run-tokens")), (run.prompt_tokens + run.completion_tokens).toLocaleString("en-US"));
  const writer = run.nodes.find((n) => n.node_id === "writer");
  const finalText = await streamed("writer");
  assert.ok(finalText.length > 200 && writer.output.text.endsWith(finalText), "the card shows the end of the writer's output");
  assert.match(await text(page.getByTestId("run-nodes-done")), /^7\/7$/);
  await shoot(page, "run-finished");

  // The handoff inspector shows the value that crossed an edge.
  await page.getByTestId("edge-label-e6").click();
  await page.getByTestId("handoff-inspector").waitFor();
  assert.match(await text(page.getByTestId("handoff-preview")), /Echo: Write a long/);
  await shoot(page, "handoff");
});

test("cancel a running run, then resume it from the workflow's current version", async () => {
  const doc = documentOf({
    name: "E2E cancel and resume",
    nodes: [
      ["in", "input", "Topic"],
      ["quick", "researcher", "Quick", { model: "mock/echo" }, 320, 0],
      ["tweak", "reviewer", "Tweaked later", { model: "mock/echo", prompt: "Check {{ $.run.topic }}" }, 320, 160],
      ["slow", "researcher", "Slow", { model: "mock/slow", mock_latency_ms: 60_000, prompt: STORY_PROMPT }, 320, 320],
      ["out", "output", "Result", {}, 640, 160],
    ],
    edges: [
      ["e1", "in", "quick"],
      ["e2", "in", "slow"],
      ["e3", "quick", "out", { target_handle: "quick" }],
      ["e4", "slow", "out", { target_handle: "slow" }],
      ["e5", "in", "tweak"],
      ["e6", "tweak", "out", { target_handle: "tweak" }],
    ],
  });
  const wf = await api.importWorkflow(doc);
  const run = await api.post(`workflows/${wf.id}/runs/`, { inputs: { topic: "rivers" } });
  await page.goto(`/runs/${run.id}`);
  await waitState(state("quick"), "succeeded");
  await waitState(state("tweak"), "succeeded");
  await waitState(state("slow"), "running");
  await until(async () => (await streamed("slow")).length > 0, { message: "slow node streaming" });
  await shoot(page, "before-cancel");

  const clicked = Date.now();
  await page.getByTestId("cancel-run").click();
  await waitState(page.getByTestId("run-state"), "cancelled", 5_000);
  const took = Date.now() - clicked;
  assert.ok(took < 3_000, `cancelled within 3 s of the click (docs/run-semantics.md: the run stops within 2 s); took ${took} ms`);
  await waitState(state("slow"), "cancelled");
  await waitState(state("out"), "cancelled");
  assert.equal(await state("quick").getAttribute("data-state"), "succeeded");
  assert.equal(await page.getByTestId("cancel-run").count(), 0, "no cancel button on a finished run");
  const cancelled = await api.get(`runs/${run.id}/`);
  assert.equal(cancelled.state, "cancelled");
  assert.deepEqual(cancelled.nodes.map((n) => [n.node_id, n.state]).sort(), [
    ["in", "succeeded"],
    ["out", "cancelled"],
    ["quick", "succeeded"],
    ["slow", "cancelled"],
    ["tweak", "succeeded"],
  ]);
  await shoot(page, "cancelled");

  // Meanwhile the workflow changes (the slow node made fast, one prompt edited); resuming shows what
  // is kept, what changed and what runs again.
  const current = await api.get(`workflows/${wf.id}/`);
  const faster = structuredClone(current.document);
  faster.nodes.find((n) => n.id === "slow").data.config.mock_latency_ms = 1500;
  faster.nodes.find((n) => n.id === "tweak").data.config.prompt = "Check {{ $.run.topic }} twice";
  await api.put(`workflows/${wf.id}/`, { version: current.version, document: faster, message: "faster" });

  await page.getByTestId("resume-run").click();
  await page.getByTestId("resume-dialog").waitFor();
  await page.getByTestId("resume-plan").waitFor();
  assert.match(await text(page.getByTestId("resume-version-changed")), /v1 → v2/);
  assert.equal(await page.getByTestId("resume-node-quick").getAttribute("data-status"), "keep");
  assert.equal(await page.getByTestId("resume-node-in").getAttribute("data-status"), "keep");
  assert.equal(await page.getByTestId("resume-node-tweak").getAttribute("data-status"), "changed");
  assert.equal(await page.getByTestId("resume-node-slow").getAttribute("data-status"), "run", "it never finished");
  assert.match(await text(page.getByTestId("resume-summary")), /2 keep their output · 1 changed · 2 run again/);
  await shoot(page, "resume-dialog");
  await page.getByTestId("resume-confirm").click();
  await page.waitForURL((u) => u.pathname.startsWith("/runs/") && !u.pathname.endsWith(run.id));
  const resumedId = new URL(page.url()).pathname.split("/").pop();
  assert.equal(await page.getByTestId("run-resumed-from").getAttribute("href"), `/runs/${run.id}`);
  await waitState(page.getByTestId("run-state"), "succeeded", 20_000);
  for (const id of ["in", "quick", "tweak", "slow", "out"]) assert.equal(await state(id).getAttribute("data-state"), "succeeded");
  const resumed = await api.get(`runs/${resumedId}/`);
  assert.equal(resumed.resumed_from, run.id);
  assert.equal(resumed.version, 2, "a resume runs the current version");
  const { events } = await api.get(`runs/${resumedId}/events/?after=0`);
  const reused = Object.fromEntries(events.filter((e) => e.type === "node.succeeded").map((e) => [e.node_id, e.data.reused]));
  assert.deepEqual(reused, { in: true, quick: true, tweak: false, slow: false, out: false });
  await shoot(page, "resumed");
});

test("reopen a past run from the runs list: its whole history is there", async () => {
  assert.ok(pastRun, "the first test ran");
  const past = await api.get(`runs/${pastRun.id}/`);
  await page.getByRole("link", { name: "Runs", exact: true }).first().click();
  await page.getByTestId("runs-page").waitFor();
  const row = page.getByTestId(`run-row-${pastRun.id}`);
  await row.waitFor();
  assert.equal(await row.getAttribute("data-state"), "failed");
  await shoot(page, "runs-list");
  await row.getByRole("link", { name: `Open run ${pastRun.id}` }).click();
  await page.waitForURL(new RegExp(`/runs/${pastRun.id}`));

  // Replayed from the event log: final states, the streamed text, the totals.
  await waitState(page.getByTestId("run-state"), "failed");
  for (const n of past.nodes) await waitState(state(n.node_id), n.state);
  const writer = past.nodes.find((n) => n.node_id === "writer");
  await until(async () => (await streamed("writer")).length > 200, { message: "the writer's text replayed" });
  assert.ok(writer.output.text.endsWith(await streamed("writer")));
  assert.equal(await text(page.getByTestId("run-tokens")), (past.prompt_tokens + past.completion_tokens).toLocaleString("en-US"));
  assert.equal(await page.getByTestId("cancel-run").count(), 0);

  // Per-node input and output, and the selection is in the URL (a reload comes back to it).
  await page.getByTestId("node-writer").click();
  await page.getByTestId("node-details").waitFor();
  assert.match(page.url(), /[?&]node=writer/);
  await page.reload();
  await page.getByTestId("node-details").waitFor();
  assert.match(await text(page.getByTestId("node-details-input")), /"topic": "tides"/);
  assert.ok((await text(page.getByTestId("node-details-output"))).includes(writer.output.text.slice(0, 60)));
  // The replay after the reload passes through the node's earlier states.
  await waitState(page.getByTestId("node-details-state"), "succeeded");
  await shoot(page, "past-run-node");

  // The timeline has one bar per attempt (the flaky reviewer has two), grouped by worker.
  await page.getByTestId("tab-timeline").click();
  await page.getByTestId("timeline").waitFor();
  const attempts = past.nodes.reduce((a, n) => a + (n.state === "skipped" ? 0 : n.attempt), 0);
  assert.equal(await page.getByTestId("timeline-bar").count(), attempts);
  assert.ok((await page.getByTestId("timeline-row").count()) >= 2, "agent and control workers");
  await shoot(page, "past-run-timeline");
});

test("an output above 64 KiB is offered as a download", async () => {
  const rows = Array.from({ length: 3000 }, (_, i) => ({ i, text: `row ${i}: lorem ipsum dolor sit amet` }));
  const wf = await api.importWorkflow(
    documentOf({
      name: "E2E large output",
      nodes: [
        ["in", "input", "Topic"],
        ["big", "coder", "Big JSON", { model: "mock/json", mock_json: { rows } }, 320, 0],
        ["out", "output", "Result", {}, 640, 0],
      ],
      edges: [
        ["e1", "in", "big"],
        ["e2", "big", "out", { target_handle: "big" }],
      ],
    }),
  );
  const run = await api.post(`workflows/${wf.id}/runs/`, { inputs: { topic: "data" } });
  await until(async () => TERMINAL.includes((await api.get(`runs/${run.id}/`)).state), { message: "large run done" });
  const detail = await api.get(`runs/${run.id}/`);
  const big = detail.nodes.find((n) => n.node_id === "big");
  assert.equal(big.output, null);
  assert.ok(big.output_artifact?.id, "stored as an artifact");

  await page.goto(`/runs/${run.id}?node=big`);
  const link = page.getByTestId("node-details-artifact-download");
  await link.waitFor();
  assert.match(await text(page.getByTestId("node-details-artifact")), /KiB/);
  await shoot(page, "artifact");
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  const body = await readFile(await download.path(), "utf8");
  assert.equal(Buffer.byteLength(body), big.output_artifact.size);
  assert.equal(JSON.parse(body).json.rows.length, 3000);
});
