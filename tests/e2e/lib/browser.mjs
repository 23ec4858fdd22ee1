// Shared by the e2e specs and bench/canvas_bench.mjs: launch Debian's Chromium through playwright-core
// (never a downloaded browser), log in through the UI or the API, and a small API client.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before } from "node:test";
import { chromium } from "playwright-core";

export const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ARTIFACTS = path.join(E2E_DIR, "artifacts");
export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

export function baseUrl() {
  const url = process.env.E2E_BASE_URL;
  if (!url) throw new Error("E2E_BASE_URL is not set (tests/e2e/run.sh sets it from server.sh start)");
  return url.replace(/\/$/, "");
}

// Without the background-networking flags Chromium's own connections are refused by the closed network
// and it stalls; a fresh profile per launch keeps runs independent.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Launch Chromium. playwright-core's `launch()` always gives the browser a fresh, temporary
 * `--user-data-dir` (it refuses one in `args`) and removes it on close, so every launch starts clean;
 * each `newContext()` is a separate cookie jar (a separate user session).
 */
export async function launch() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  return { browser, close: () => browser.close().catch(() => {}) };
}

/**
 * The usual spec setup: one browser and one API session for the whole file, opened before the first
 * test and closed after the last. Read `suite.browser` / `suite.api` inside tests (they are set once
 * `before` has run). `setup(suite)` runs at the end of that same hook: Node 20 does not wait for one
 * top-level `before` hook to finish before starting the next, so a second hook could not rely on it.
 */
export function browserSuite(setup) {
  const suite = { browser: null, api: null };
  let close;
  before(async () => {
    ({ browser: suite.browser, close } = await launch());
    suite.api = await Api.login();
    await setup?.(suite);
  });
  after(async () => close?.());
  return suite;
}

export async function newPage(browser, { width = 1440, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, baseURL: baseUrl() });
  context.setDefaultTimeout(Number(process.env.E2E_TIMEOUT_MS || 10_000));
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  return { context, page, errors };
}

/**
 * Screenshots of one spec: `shoot(page, "name")` writes tests/e2e/artifacts/<spec>-<NN>-<name>.png
 * (numbered in the order taken) and records it in artifacts/<spec>.txt for the note.
 */
export function shooter(spec) {
  mkdirSync(ARTIFACTS, { recursive: true });
  let n = 0;
  const taken = [];
  const shoot = async (page, name, opts = {}) => {
    n += 1;
    const file = `${spec}-${String(n).padStart(2, "0")}-${name}.png`;
    await page.screenshot({ path: path.join(ARTIFACTS, file), ...opts });
    taken.push(`tests/e2e/artifacts/${file}`);
    writeFileSync(path.join(ARTIFACTS, `${spec}.txt`), taken.join("\n") + "\n");
    return file;
  };
  return shoot;
}

/** Log in through the login form (the real user path). */
export async function loginUi(page, username = "demo", password = "demo") {
  await page.goto("/login");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"));
}

/**
 * A session login through the API: the cookie jar it leaves, the logged-in user (`Me`), and the headers
 * of a further session request (cookies and the CSRF token, read afresh: login rotates it).
 */
async function sessionLogin(username, password, base) {
  const cookies = new Map();
  const keep = (res) => {
    for (const c of res.headers.getSetCookie()) {
      const [kv] = c.split(";");
      const i = kv.indexOf("=");
      cookies.set(kv.slice(0, i), kv.slice(i + 1));
    }
  };
  keep(await fetch(`${base}/api/v1/auth/csrf/`));
  const headers = () => ({
    "Content-Type": "application/json",
    Cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; "),
    "X-CSRFToken": cookies.get("csrftoken") ?? "",
    Origin: base,
    Referer: `${base}/`,
  });
  const res = await fetch(`${base}/api/v1/auth/login/`, {
    method: "POST",
    headers: headers(),
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  keep(res);
  return { cookies, headers, me: await res.json() };
}

/** A token-authenticated JSON client for arranging and checking state through the API. */
export class Api {
  constructor(token, base = baseUrl()) {
    this.token = token;
    this.base = base;
  }

  /** Session cookies of a login (to put into a browser context without going through the form). */
  static async sessionCookies(username = "demo", password = "demo", base = baseUrl()) {
    const { cookies } = await sessionLogin(username, password, base);
    return [...cookies].map(([name, value]) => ({ name, value, url: base }));
  }

  static async login(username = "demo", password = "demo", base = baseUrl()) {
    // Session login once to create a token (docs/api.md: POST tokens/ → key shown once).
    const { headers, me } = await sessionLogin(username, password, base);
    const tok = await fetch(`${base}/api/v1/tokens/`, {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ name: `e2e-${Date.now()}` }),
    });
    if (tok.status !== 201) throw new Error(`token failed: ${tok.status} ${await tok.text()}`);
    const api = new Api((await tok.json()).key, base);
    api.workspace = me.workspaces[0].id;
    return api;
  }

  async req(method, url, body) {
    const res = await fetch(`${this.base}/api/v1/${url}`, {
      method,
      headers: { Authorization: `Token ${this.token}`, "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) {
      const err = new Error(`${method} ${url} → ${res.status}: ${text.slice(0, 500)}`);
      err.status = res.status;
      err.body = data;
      throw err;
    }
    return data;
  }
  get(url) {
    return this.req("GET", url);
  }
  post(url, body = {}) {
    return this.req("POST", url, body);
  }
  put(url, body) {
    return this.req("PUT", url, body);
  }
  /** Import a workflow document into the first workspace. */
  importWorkflow(document) {
    return this.post("workflows/import/", { workspace: this.workspace, document });
  }
}

/** Poll `fn` until it returns a truthy value (or throw after `timeout` ms). */
export async function until(fn, { timeout = 20_000, interval = 100, message = "condition" } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${message}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** A workflow document (docs/workflow-document.md) from a compact description, for arranging fixtures through the API. */
export function documentOf({ name, inputs = { topic: { type: "string", required: true, description: "" } }, nodes, edges, settings = {} }) {
  return {
    schema_version: 1,
    name,
    description: "",
    settings: {
      default_model: "mock/echo",
      max_concurrency: 16,
      error_policy: "stop",
      budget: { max_total_tokens: null, max_cost_usd: null, max_duration_s: 3600 },
      ...settings,
    },
    inputs,
    nodes: nodes.map(([id, type, label, config = {}, x = 0, y = 0]) => ({ id, type, position: { x, y }, data: { label, config } })),
    edges: edges.map(([id, source, target, extra = {}]) => ({
      id,
      source,
      target,
      source_handle: "out",
      target_handle: null,
      transform: null,
      condition: null,
      label: "",
      ...extra,
    })),
  };
}

/** Centre of an element's box (page coordinates). */
export async function centre(locator) {
  const box = await locator.boundingBox();
  if (!box) throw new Error(`no box for ${locator}`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** Drag with the mouse between two points, in steps (React Flow needs the moves). */
export async function mouseDrag(page, from, to, steps = 12) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(from.x + (to.x - from.x) / steps, from.y + (to.y - from.y) / steps);
  await page.mouse.move(to.x, to.y, { steps });
  await page.mouse.up();
}

/** React Flow renders node positions as `translate(x px, y px)` in flow coordinates. */
export async function flowPositions(page) {
  return page.$$eval(".react-flow__node", (els) =>
    Object.fromEntries(
      els.map((el) => {
        const m = /translate\(\s*(-?[\d.]+)px,\s*(-?[\d.]+)px\)/.exec(el.style.transform);
        return [el.getAttribute("data-id"), m ? { x: Number(m[1]), y: Number(m[2]) } : null];
      }),
    ),
  );
}
