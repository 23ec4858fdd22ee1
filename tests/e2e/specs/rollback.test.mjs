// Side effects and rollback against the real server and workers (SPEC §11): an http node creates an
// order on a receiver started here (Node's http module, loopback, allowed by server.sh's
// AGENTLOOM_EGRESS_ALLOW default), the editor's "Send test request" shows its answer, the run view's "Side
// effects" tab lists what the run did, and "Roll back" sends the compensation once and shows it
// compensated live.
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, test } from "node:test";
import { browserSuite, documentOf, loginUi, newPage, shooter, until } from "../lib/browser.mjs";

const shoot = shooter("rollback");
let api;
let page;
/** What the receiver was asked, in order: "POST /orders", "DELETE /orders/1", … */
const seen = [];
let receiver;
let receiverUrl;

before(async () => {
  let next = 0;
  receiver = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/orders") {
        next += 1;
        res.writeHead(201, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ id: next }));
      } else if (req.method === "POST" && req.url === "/notes") {
        res.writeHead(201, { "Content-Type": "application/json" });
        res.end('{"sent": true}');
      } else if (req.method === "DELETE" && req.url.startsWith("/orders/")) {
        res.writeHead(204);
        res.end();
      } else {
        res.writeHead(404, { "Content-Type": "application/json" });
        res.end('{"error": "no such route"}');
      }
    });
  });
  await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${receiver.address().port}`;
});
after(() => new Promise((resolve) => receiver.close(resolve)));

browserSuite(async (suite) => {
  api = suite.api;
  ({ page } = await newPage(suite.browser));
  await loginUi(page);
});

test("an http node's side effects are listed, rolled back once, and shown compensated", async () => {
  const wf = await api.importWorkflow(
    documentOf({
      name: "E2E rollback",
      nodes: [
        ["in", "input", "Topic"],
        [
          "order",
          "http",
          "Create order",
          {
            method: "POST",
            url: `${receiverUrl}/orders`,
            body: '{"topic": "{{ $.run.topic }}"}',
            side_effect: "reversible",
            compensation: { method: "DELETE", url: `${receiverUrl}/orders/{{ $.response.json.id }}` },
            retry: { max_attempts: 1 },
          },
          320,
          0,
        ],
        [
          "notify",
          "http",
          "Notify",
          {
            method: "POST",
            url: `${receiverUrl}/notes`,
            side_effect: "reversible",
            compensation: { manual: "Tell the customer the order is off." },
            retry: { max_attempts: 1 },
          },
          640,
          0,
        ],
        ["out", "output", "Result", {}, 960, 0],
      ],
      edges: [
        ["e1", "in", "order"],
        ["e2", "order", "notify"],
        ["e3", "notify", "out"],
      ],
    }),
  );

  // The editor's test request goes through the same guard and shows the receiver's answer.
  await page.goto(`/workflows/${wf.id}`);
  await page.locator('.react-flow__node[data-id="order"]').click();
  await page.getByTestId("http-test-send").click();
  await until(async () => (await page.getByTestId("http-test-status").textContent()) === "201", {
    message: "the test request's 201",
  });
  assert.match((await page.getByTestId("http-test-body").textContent()) ?? "", /"id":\s*1/);
  await shoot(page, "test-request");
  assert.deepEqual(seen, ["POST /orders"]);

  const run = await api.post(`workflows/${wf.id}/runs/`, { inputs: { topic: "boats" } });
  await page.goto(`/runs/${run.id}?tab=side-effects`);
  await until(async () => (await page.getByTestId("run-state").getAttribute("data-state")) === "succeeded", {
    message: "the run to succeed",
  });
  const rows = page.locator('[data-testid^="side-effect-"][data-state]');
  await until(async () => (await rows.count()) === 2, { message: "two side effects listed" });
  const [row, note] = [rows.nth(0), rows.nth(1)];
  assert.equal(await row.getAttribute("data-state"), "done");
  assert.match((await note.textContent()) ?? "", /Tell the customer/);
  assert.match((await row.textContent()) ?? "", /POST 127\.0\.0\.1\/orders/);
  assert.match((await row.textContent()) ?? "", /DELETE .*\/orders\/2/);
  await shoot(page, "side-effect-done");

  await page.getByTestId("rollback-run").click();
  await page.getByTestId("rollback-dialog").waitFor();
  await page.getByTestId("rollback-confirm").click();
  await until(async () => (await row.getAttribute("data-state")) === "compensated", {
    timeout: 20_000,
    message: "the side effect compensated",
  });
  // The manual one waits for a person, who says it is done.
  assert.equal(await note.getAttribute("data-state"), "manual");
  await shoot(page, "side-effect-compensated");
  assert.deepEqual(seen, ["POST /orders", "POST /orders", "POST /notes", "DELETE /orders/2"]);
  assert.equal(await page.getByTestId("rollback-run").isDisabled(), true, "nothing left to roll back");
  await note.getByTestId("side-effect-resolve").click();
  await until(async () => (await note.getAttribute("data-state")) === "compensated", { message: "marked resolved" });

  const effects = await api.get(`runs/${run.id}/side-effects/`);
  assert.deepEqual(
    effects.map((e) => e.state),
    ["compensated", "compensated"],
  );
  const { events } = await api.get(`runs/${run.id}/events/?after=0`);
  assert.equal(events.filter((e) => e.type === "sideeffect.compensated").length, 2);
});
