// The editor's Triggers panel against the real server, workers and beat (docs/triggers.md): a schedule
// shows its next fire times; a new webhook's copyable curl example, run as it is with bash, curl and
// openssl, starts a run; a notification target on a private address is refused beside the target, one
// on a receiver started here (loopback, allowed by server.sh's AGENTLOOM_EGRESS_ALLOW default) is saved
// as a new version the editor continues from; the run's end reaches the receiver once, signed, and the
// panel lists the webhook's call and the delivery with its answer.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import http from "node:http";
import { after, before, test } from "node:test";
import { browserSuite, documentOf, loginUi, newPage, shooter, until } from "../lib/browser.mjs";

const shoot = shooter("triggers");
const suite = browserSuite();
/** The deliveries the receiver got: headers and parsed body. */
const received = [];
let receiver;
let receiverUrl;

before(async () => {
  receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({ url: req.url, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${receiver.address().port}`;
});
after(() => new Promise((resolve) => receiver.close(resolve)));

async function savedVersion(page) {
  const status = page.getByTestId("save-status");
  await status.and(page.locator('[data-state="saved"]')).filter({ hasText: /v\d+/ }).waitFor({ timeout: 15_000 });
  return Number(/v(\d+)/.exec(await status.textContent())[1]);
}

test("schedules, a webhook called with its curl example, notifications saved and delivered", async () => {
  const api = suite.api;
  const wf = await api.importWorkflow(
    documentOf({
      name: "E2E triggers",
      inputs: { n: { type: "number", required: false, description: "" } },
      nodes: [
        ["in", "input", "In"],
        ["out", "output", "Out", {}, 320, 0],
      ],
      edges: [["e1", "in", "out"]],
    }),
  );
  const { page, errors } = await newPage(suite.browser);
  await loginUi(page);
  errors.length = 0;
  await page.goto(`/workflows/${wf.id}`);
  const before = await savedVersion(page);
  await page.getByTestId("open-triggers").click();
  const panel = page.getByTestId("triggers-panel");
  await panel.waitFor();

  // A schedule in another timezone: its next fire times, there and for the viewer.
  const newSchedule = panel.getByTestId("new-schedule");
  await newSchedule.getByLabel("Cron").fill("30 2 * * *");
  await newSchedule.getByLabel("Timezone").fill("Asia/Tokyo");
  await newSchedule.getByRole("button", { name: "Add schedule" }).click();
  const times = panel.getByTestId("next-fire-times");
  await times.waitFor();
  assert.match(await times.textContent(), /02:30/);

  // A webhook: its secret once, in a curl example that works as copied.
  const newWebhook = panel.getByTestId("new-webhook");
  await newWebhook.getByLabel("Webhook name").fill("orders");
  await newWebhook.getByRole("button", { name: "Add webhook" }).click();
  const example = await panel.getByTestId("webhook-secret").getByTestId("curl-example").textContent();
  assert.match(example, /SECRET='whsec_/);
  await shoot(page, "webhook-created");
  const answer = JSON.parse(execFileSync("bash", ["-c", example], { encoding: "utf8" }));
  assert.ok(answer.run, `the hook answered ${JSON.stringify(answer)}`);

  // Notifications: a private address is refused beside its target, and nothing is saved.
  const notifications = panel.getByTestId("notifications");
  await notifications.getByRole("button", { name: "Add a target" }).click();
  await notifications.getByLabel("Target 1 URL").fill("http://10.0.0.1/hook");
  await notifications.getByTestId("save-notifications").click();
  await notifications.getByTestId("notification-target-error-0").filter({ hasText: "refused" }).waitFor();
  assert.deepEqual((await api.get(`workflows/${wf.id}/notifications/`)).notifications, []);
  await shoot(page, "private-address-refused");
  // The browser logs the refused PUT's 400, as it should; nothing else may be logged.
  assert.deepEqual(errors.splice(0), ["console: Failed to load resource: the server responded with a status of 400 (Bad Request)"]);

  // A receiver on loopback (allowed by the operator), on success only: saved as a new version.
  await notifications.getByLabel("Target 1 URL").fill(`${receiverUrl}/agentloom`);
  await notifications.getByLabel("failed").uncheck();
  await notifications.getByLabel("succeeded").check();
  await notifications.getByTestId("save-notifications").click();
  await notifications.getByText(/Saved as version \d+/).waitFor();
  const saved = await api.get(`workflows/${wf.id}/notifications/`);
  assert.deepEqual(saved.notifications, [{ kind: "webhook", on: ["succeeded"], url: `${receiverUrl}/agentloom` }]);
  assert.ok(saved.version > before);
  await page.getByRole("button", { name: "Close" }).click();

  // The editor continues from that version: its next edit keeps the targets.
  assert.equal(await savedVersion(page), saved.version);
  await page.getByTestId("workflow-name").fill("E2E triggers, renamed");
  await until(async () => (await api.get(`workflows/${wf.id}/`)).version > saved.version, { message: "the rename saved" });
  const doc = (await api.get(`workflows/${wf.id}/`)).document;
  assert.equal(doc.name, "E2E triggers, renamed");
  assert.deepEqual(doc.settings.notifications, saved.notifications);

  // A second call runs the new version: its end reaches the receiver, once.
  const second = JSON.parse(execFileSync("bash", ["-c", example], { encoding: "utf8" }));
  await until(() => received.length >= 1, { timeout: 30_000, message: "the notification" });
  await new Promise((r) => setTimeout(r, 1500)); // a duplicate would have come by now
  assert.equal(received.length, 1);
  assert.equal(received[0].body.event, "run.succeeded");
  assert.equal(received[0].body.run.id, second.run);
  assert.equal(received[0].body.run.trigger, "webhook");
  assert.equal(received[0].headers["x-agentloom-event"], "run.succeeded");

  // The panel lists the webhook's calls and the delivery with its answer.
  await page.getByTestId("open-triggers").click();
  const calls = panel.getByTestId("webhook-calls");
  await calls.waitFor();
  assert.match(await calls.textContent(), new RegExp(second.run.slice(0, 8)));
  const delivery = panel.getByTestId("notification-delivery");
  await delivery.waitFor();
  const row = await delivery.textContent();
  assert.match(row, /delivered/);
  assert.match(row, /204/);
  await shoot(page, "deliveries");
  assert.deepEqual(errors, []);
});
