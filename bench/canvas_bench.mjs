// Canvas benchmark: Debian's Chromium (through playwright-core) against the real product.
//
//   bash bench/canvas_bench.sh            # starts the server (tests/e2e/server.sh) if needed, runs this
//   E2E_BASE_URL=http://127.0.0.1:8766 node bench/canvas_bench.mjs [--sizes 200,1000] [--runs 3]
//        [--pan-seconds 6] [--live-nodes 200] [--live-seconds 5] [--json bench/results/canvas.json]
//   ... --profile [--sizes 1000]   # where the time goes, for the largest size (into bench/results/)
//
// What it measures (docs/benchmarks.md has the definitions and the latest figures):
//   1. An n-node, 1.5·n-edge workflow imported through the API; the editor page loaded from a
//      navigation: navigation start → interactive (all nodes in view rendered, then the main thread
//      quiet: no long task for 500 ms), cold (fresh browser context) and warm (median of --runs).
//   2. Panning (Space + mouse drags) and zooming (wheel, to ~100 % and back) for --pan-seconds: per-frame
//      main-thread work from a Chrome trace, and the presented-frame interval (requestAnimationFrame
//      deltas, which headless Chromium locks to 60 Hz vsync: 16.7 ms means no frame dropped).
//   3. A real run where --live-nodes agent nodes (mock/slow, streaming) run at once: the same two
//      frame figures on the run view while their statuses and tokens stream in, at fit-view zoom and
//      zoomed in to 100 %.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Api, baseUrl, centre, documentOf, launch, until } from "../tests/e2e/lib/browser.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]?.startsWith("--") || all[i + 1] === undefined ? "1" : all[i + 1]]] : acc), []),
);
const SIZES = (args.sizes ?? "200,1000").split(",").map(Number);
const RUNS = Number(args.runs ?? 3);
const PAN_SECONDS = Number(args["pan-seconds"] ?? 6);
const LIVE_NODES = Number(args["live-nodes"] ?? 200);
const LIVE_SECONDS = Number(args["live-seconds"] ?? 5);
const JSON_OUT = args.json ?? path.join(ROOT, "bench", "results", `canvas-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
const GOALS = { interactiveMs: 1500, panFrameMs: 16, liveFrameMs: 33 };
const QUIET_MS = 500;

// ---------------------------------------------------------------------------------------------
// Documents

const AGENTS = ["researcher", "coder", "reviewer", "transformer"];
function agentConfig(type, extra = {}) {
  if (type === "transformer") return { expression: "$", on_error: null, ...extra };
  return {
    model: "mock/echo",
    temperature: 0.7,
    system_prompt: `You are a careful ${type}.`,
    prompt: "",
    max_tokens: 1024,
    timeout_s: 300,
    stream: true,
    response_format: "text",
    retry: { max_attempts: 3, backoff: "exponential", initial_delay_ms: 1000, max_delay_ms: 60000, jitter: true },
    on_error: null,
    ...extra,
  };
}

/** n nodes in layers of `width` (one input, n-2 agents, one output) and exactly `edgeCount` edges. */
function layeredDocument(n, edgeCount = Math.round(n * 1.5), width = 20) {
  const nodes = [];
  const edges = [];
  const edge = (source, target) => edges.push([`e${edges.length + 1}`, source, target, { target_handle: source }]);
  nodes.push(["input-1", "input", "Input", {}, 0, (width * 120) / 2]);
  const layers = [["input-1"]];
  let made = 0;
  const agents = n - 2;
  while (made < agents) {
    const prev = layers.at(-1);
    const cur = [];
    const count = Math.min(width, agents - made);
    for (let i = 0; i < count; i++) {
      const type = AGENTS[(made + i) % AGENTS.length];
      const id = `${type}-${made + i + 1}`;
      nodes.push([id, type, `${type} ${made + i + 1}`, agentConfig(type), layers.length * 300, i * 120]);
      edge(prev[i % prev.length], id);
      cur.push(id);
    }
    made += count;
    layers.push(cur);
  }
  nodes.push(["output-1", "output", "Output", {}, layers.length * 300, (width * 120) / 2]);
  for (const s of layers.at(-1)) edge(s, "output-1");
  // Extra edges from the previous layer (a second input for agents), until the count is reached.
  outer: for (let l = 2; l < layers.length; l++) {
    const prev = layers[l - 1];
    if (prev.length < 2) continue;
    for (let i = 0; i < layers[l].length; i++) {
      if (edges.length >= edgeCount) break outer;
      edge(prev[(i + 1) % prev.length], layers[l][i]);
    }
  }
  return documentOf({
    name: `Canvas bench ${n} nodes / ${edges.length} edges`,
    inputs: { topic: { type: "string", required: false, description: "" } },
    nodes,
    edges,
  });
}

const STORY =
  "Write a long and careful story about {{ $.run.topic }} that covers the history, the people, the science, the open " +
  "questions and what comes next, in plain words, one idea at a time, so that a reader who knows nothing about it can " +
  "follow every step, and end with three questions worth asking next time.";

/** One input → `n` streaming agents (a grid) → one output; every agent runs at once. */
function fanOutDocument(n, latencyMs) {
  const cols = Math.ceil(Math.sqrt(n * 2));
  const rows = Math.ceil(n / cols);
  const nodes = [["input-1", "input", "Topic", {}, 0, (rows * 150) / 2]];
  const edges = [];
  const config = agentConfig("researcher", { model: "mock/slow", mock_latency_ms: latencyMs, prompt: STORY });
  for (let i = 0; i < n; i++) {
    const id = `agent-${i + 1}`;
    nodes.push([id, "researcher", `Agent ${i + 1}`, config, 320 + (i % cols) * 260, Math.floor(i / cols) * 150]);
    edges.push([`in-${i + 1}`, "input-1", id, { target_handle: "topic" }]);
    edges.push([`out-${i + 1}`, id, "output-1", { target_handle: id }]);
  }
  nodes.push(["output-1", "output", "Result", {}, 320 + cols * 260 + 100, (rows * 150) / 2]);
  return documentOf({ name: `Canvas bench: ${n} agents at once`, settings: { max_concurrency: n + 8 }, nodes, edges });
}

// ---------------------------------------------------------------------------------------------
// In-page instrumentation (installed before the app's code on every navigation)

function instrument() {
  const b = (window.__bench = { longTasks: [], rendered: null, renderChecks: 0, expected: null, frames: null });
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longTasks.push([e.startTime, e.startTime + e.duration]);
    }).observe({ type: "longtask", buffered: true });
  } catch {
    /* no long task API */
  }
  // "Rendered": the first of two consecutive frames with the same viewport transform in which every
  // expected node whose box intersects the canvas is in the DOM and measured (React Flow keeps a node
  // `visibility: hidden` until it has its size).
  let last = null;
  const check = (t) => {
    b.renderChecks++;
    const exp = b.expected;
    const vp = document.querySelector(".react-flow__viewport");
    const pane = document.querySelector(".react-flow");
    if (exp && vp && pane) {
      const m = /translate\((-?[\d.e-]+)px,\s*(-?[\d.e-]+)px\)\s*scale\(([\d.e-]+)\)/.exec(vp.style.transform);
      const els = document.querySelectorAll(".react-flow__node");
      if (m && els.length) {
        const [tx, ty, z] = [Number(m[1]), Number(m[2]), Number(m[3])];
        // Cheap enough to run every frame: no per-node layout reads (one node gives the size).
        const byId = new Map();
        for (const el of els) byId.set(el.getAttribute("data-id"), el);
        let w = 0;
        let h = 0;
        for (const el of els)
          if (el.style.visibility !== "hidden") {
            [w, h] = [el.offsetWidth, el.offsetHeight];
            break;
          }
        const r = pane.getBoundingClientRect();
        let ok = w > 0;
        let visible = 0;
        for (let i = 0; ok && i < exp.length; i++) {
          const [id, x, y] = exp[i];
          const sx = tx + x * z;
          const sy = ty + y * z;
          if (sx + w * z < 0 || sy + h * z < 0 || sx > r.width || sy > r.height) continue;
          visible++;
          const el = byId.get(id);
          if (!el || el.style.visibility === "hidden") ok = false;
        }
        const key = `${tx},${ty},${z},${els.length}`;
        if (ok && visible > 0 && last && last.key === key) {
          b.rendered = { at: last.t, visible, inDom: els.length, zoom: z };
          return;
        }
        last = ok && visible > 0 ? { key, t } : null;
      }
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);

  // Frame recorder: requestAnimationFrame deltas.
  b.startFrames = () => {
    b.frames = [];
    let prev = null;
    const tick = (t) => {
      if (!b.frames) return;
      if (prev !== null) b.frames.push(t - prev);
      prev = t;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  };
  b.stopFrames = () => {
    const f = b.frames;
    b.frames = null;
    return f;
  };
  // Input probe: the next wheel event's delay to its handler and to the end of the frame it caused.
  b.inputProbe = () =>
    new Promise((resolve) => {
      const handler = (e) => {
        const start = e.timeStamp;
        const handled = performance.now();
        removeEventListener("wheel", handler, true);
        requestAnimationFrame(() => {
          const ch = new MessageChannel();
          ch.port1.onmessage = () => resolve({ delay: handled - start, toFrame: performance.now() - start });
          ch.port2.postMessage(0);
        });
      };
      addEventListener("wheel", handler, { capture: true, passive: true });
    });
}

// ---------------------------------------------------------------------------------------------
// Statistics and the trace

function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    median: quantile(s, 0.5),
    p95: quantile(s, 0.95),
    p99: quantile(s, 0.99),
    max: s.at(-1) ?? NaN,
    overOneVsync: s.length ? s.filter((v) => v > 1000 / 60 + 0.5).length / s.length : NaN,
  };
}

const TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "toplevel", "blink", "cc", "blink.user_timing"];

/**
 * Main-thread work per frame from a Chrome trace: on the renderer main thread with the most
 * frames, each interval between two BeginMainFrame starts is one frame; its work is the time the
 * thread spent in tasks (input handling, React, requestAnimationFrame, style, layout, paint) within it.
 */
function frameWorkFromTrace(buffer) {
  const trace = JSON.parse(buffer.toString());
  const events = trace.traceEvents ?? trace;
  // Phase marks (performance.mark("bench:<phase>")), in trace time.
  const marks = events
    .filter((e) => typeof e.name === "string" && e.name.startsWith("bench:") && e.ph !== "e")
    .map((e) => [e.ts, e.name.slice(6)])
    .sort((a, b) => a[0] - b[0]);
  const phaseAt = (ts) => {
    let p = null;
    for (const [t, name] of marks) if (t <= ts) p = name;
    return p;
  };
  const names = new Map();
  for (const e of events) if (e.ph === "M" && e.name === "thread_name") names.set(`${e.pid}:${e.tid}`, e.args?.name);
  const byThread = new Map();
  for (const e of events) {
    if (e.ph !== "X") continue;
    const key = `${e.pid}:${e.tid}`;
    if (names.get(key) !== "CrRendererMain") continue;
    let t = byThread.get(key);
    if (!t) byThread.set(key, (t = { frames: [], tasks: [] }));
    if (e.name === "WebFrameWidgetImpl::BeginMainFrame") t.frames.push(e.ts);
    else if (e.name === "ThreadControllerImpl::RunTask") t.tasks.push([e.ts, e.ts + (e.dur ?? 0)]);
  }
  const main = [...byThread.values()].sort((a, b) => b.frames.length - a.frames.length)[0];
  if (!main || main.frames.length < 2) return { all: [], phases: {} };
  main.frames.sort((a, b) => a - b);
  main.tasks.sort((a, b) => a[0] - b[0]);
  const work = [];
  let j = 0;
  for (let i = 0; i + 1 < main.frames.length; i++) {
    const [s, e] = [main.frames[i], main.frames[i + 1]];
    while (j < main.tasks.length && main.tasks[j][1] <= s) j++;
    let busy = 0;
    for (let k = j; k < main.tasks.length && main.tasks[k][0] < e; k++) busy += Math.max(0, Math.min(e, main.tasks[k][1]) - Math.max(s, main.tasks[k][0]));
    work.push([busy / 1000, phaseAt(s)]);
  }
  const phases = {};
  for (const [w, p] of work) if (p && p !== "end") (phases[p] ??= []).push(w);
  return { all: work.map(([w]) => w), phases };
}

async function recordFrames(browser, page, drive) {
  await browser.startTracing(page, { categories: TRACE_CATEGORIES });
  await page.evaluate(() => window.__bench.startFrames());
  const started = Date.now();
  await drive();
  const seconds = (Date.now() - started) / 1000;
  const raf = await page.evaluate(() => window.__bench.stopFrames());
  const work = frameWorkFromTrace(await browser.stopTracing());
  const phases = Object.fromEntries(Object.entries(work.phases).map(([k, v]) => [k, stats(v)]));
  return { seconds, raf: stats(raf), work: stats(work.all), phases };
}

// ---------------------------------------------------------------------------------------------
// Steps

/** A browser context (a logged-in session) whose pages report when `doc`'s nodes in view are rendered. */
async function newContext(browser, cookies, doc) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, baseURL: baseUrl() });
  await context.addCookies(cookies);
  await context.addInitScript(instrument);
  const expected = doc.nodes.map((x) => [x.id, x.position.x, x.position.y]);
  await context.addInitScript((exp) => (window.__bench.expected = exp), expected);
  return context;
}

const waitRendered = (page) => page.waitForFunction(() => window.__bench?.rendered, null, { timeout: 60_000, polling: 50 });

/** Navigation start → rendered → interactive (TTI with a 500 ms quiet window), plus the first input. */
async function loadEditor(page, url) {
  await page.goto(url, { waitUntil: "commit" });
  await waitRendered(page);
  const rendered = await page.evaluate(() => window.__bench.rendered);
  // Wait for a quiet window after rendering, then find where it starts.
  let interactive = rendered.at;
  for (;;) {
    const { longTasks, now } = await page.evaluate(() => ({ longTasks: window.__bench.longTasks, now: performance.now() }));
    interactive = rendered.at;
    let quietFound = false;
    for (const [s, e] of [...longTasks].sort((a, b) => a[0] - b[0])) {
      if (e <= interactive) continue;
      if (s - interactive >= QUIET_MS) {
        quietFound = true;
        break;
      }
      interactive = Math.max(interactive, e);
    }
    if (quietFound || now - interactive >= QUIET_MS) break;
    await page.waitForTimeout(100);
  }
  const nav = await page.evaluate(() => {
    const n = performance.getEntriesByType("navigation")[0];
    const res = performance.getEntriesByType("resource");
    const wf = res.find((r) => /\/api\/v1\/workflows\/[0-9a-f-]+\/$/.test(r.name));
    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
    return {
      responseEnd: n?.responseEnd,
      domContentLoaded: n?.domContentLoadedEventEnd,
      fcp: fcp?.startTime,
      workflowFetched: wf?.responseEnd,
      longTasks: window.__bench.longTasks.length,
      longTaskMs: window.__bench.longTasks.reduce((a, [s, e]) => a + (e - s), 0),
    };
  });
  // The canvas answers an input: a wheel event's delay and the time to the frame it caused.
  const mid = await centre(page.locator(".react-flow"));
  await page.mouse.move(mid.x, mid.y);
  const probe = page.evaluate(() => window.__bench.inputProbe());
  await page.mouse.wheel(0, -40);
  const input = await probe;
  return { rendered: rendered.at, interactive, visibleNodes: rendered.visible, nodesInDom: rendered.inDom, zoom: rendered.zoom, ...nav, input };
}

/** Drag with Space held: the canvas's pan gesture (it pans wherever the drag starts, even on a node). */
async function drag(page, from, dx, dy, steps = 40) {
  await page.keyboard.down(" ");
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  for (let i = 1; i <= steps; i++) {
    await page.mouse.move(from.x + (dx * i) / steps, from.y + (dy * i) / steps);
    await page.waitForTimeout(8);
  }
  await page.mouse.up();
  await page.keyboard.up(" ");
}

async function wheel(page, at, dy, times) {
  await page.mouse.move(at.x, at.y);
  for (let i = 0; i < times; i++) {
    await page.mouse.wheel(0, dy);
    await page.waitForTimeout(16);
  }
}

const mark = (page, name) => page.evaluate((n) => performance.mark(`bench:${n}`), name);

const zoomOf = (page) => page.evaluate(() => Number(/scale\(([\d.e-]+)\)/.exec(document.querySelector(".react-flow__viewport").style.transform)[1]));
/** Wheel steps (×2^0.2 each, React Flow's zoom per 100 px of wheel) from `zoom` to 100 %. */
const stepsTo100 = (zoom) => Math.max(1, Math.round(Math.log(1 / zoom) / Math.log(2 ** 0.2)));

/**
 * Pans and zooms for `seconds`, in rounds: pan at the fitted zoom (the whole graph in view), zoom
 * in with the wheel to about 100 %, pan there, zoom back out. Each phase is marked in the trace
 * (performance.mark) so its frames can be told apart.
 */
async function panAndZoom(page, seconds) {
  const mid = await centre(page.locator(".react-flow"));
  const steps = stepsTo100(await zoomOf(page));
  const end = Date.now() + seconds * 1000;
  let dir = 1;
  while (Date.now() < end) {
    await mark(page, "pan-far");
    await drag(page, { x: mid.x - 150 * dir, y: mid.y - 60 * dir }, 300 * dir, 120 * dir);
    await mark(page, "zoom-in");
    await wheel(page, mid, -100, steps);
    await mark(page, "pan-near");
    await drag(page, { x: mid.x + 150 * dir, y: mid.y }, -300 * dir, -100 * dir);
    await drag(page, { x: mid.x - 150 * dir, y: mid.y + 50 }, 300 * dir, -60 * dir);
    await mark(page, "zoom-out");
    await wheel(page, mid, 100, steps);
    dir = -dir;
  }
  await mark(page, "end");
}

// ---------------------------------------------------------------------------------------------
// --profile: where the time goes (a Chrome trace's main-thread self time by event, and a V8 CPU
// profile's self time by function), for the load and for panning/zooming of the largest size.

function selfTimeByEvent(buffer) {
  const all = JSON.parse(buffer.toString()).traceEvents ?? [];
  const events = all.filter((e) => e.ph === "X" && e.dur !== undefined);
  const names = new Map();
  for (const e of all) if (e.ph === "M" && e.name === "thread_name") names.set(`${e.pid}:${e.tid}`, e.args?.name);
  const byThread = new Map();
  for (const e of events) {
    const k = `${e.pid}:${e.tid}`;
    if (names.get(k) !== "CrRendererMain") continue;
    (byThread.get(k) ?? byThread.set(k, []).get(k)).push(e);
  }
  const list = [...byThread.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  list.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const self = new Map();
  const stack = [];
  for (const e of list) {
    while (stack.length && stack.at(-1).ts + stack.at(-1).dur <= e.ts) stack.pop();
    const parent = stack.at(-1);
    if (parent) self.set(parent.name, (self.get(parent.name) ?? 0) - e.dur);
    self.set(e.name, (self.get(e.name) ?? 0) + e.dur);
    stack.push(e);
  }
  return [...self].map(([k, v]) => [k, v / 1000]).filter(([, v]) => v > 1).sort((a, b) => b[1] - a[1]);
}

function selfTimeByFunction(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const n = byId.get(profile.samples[i]);
    const cf = n.callFrame;
    const key = `${cf.functionName || "(anonymous)"} ${cf.url ? `${cf.url.split("/").pop()}:${cf.lineNumber + 1}:${cf.columnNumber + 1}` : ""}`.trim();
    self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0));
  }
  return [...self].map(([k, v]) => [k, v / 1000]).sort((a, b) => b[1] - a[1]);
}

async function profile(api, browser, cookies, n) {
  const doc = layeredDocument(n);
  const wf = await api.importWorkflow(doc);
  const context = await newContext(browser, cookies, doc);
  const warmup = await context.newPage();
  await loadEditor(warmup, `/workflows/${wf.id}`);
  await warmup.close();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
  const out = path.join(ROOT, "bench", "results");
  mkdirSync(out, { recursive: true });
  const print = (title, rows) => {
    console.log(`\n${title}`);
    for (const [k, v] of rows.slice(0, 25)) console.log(`${v.toFixed(1).padStart(9)} ms  ${k}`);
  };
  for (const phase of ["load", "panzoom"]) {
    await browser.startTracing(page, { categories: [...TRACE_CATEGORIES, "v8.execute", "disabled-by-default-v8.gc"] });
    await cdp.send("Profiler.start");
    if (phase === "load") {
      const load = await loadEditor(page, `/workflows/${wf.id}`);
      console.log(`\n${n} nodes, warm load: rendered ${load.rendered.toFixed(0)} ms, interactive ${load.interactive.toFixed(0)} ms, workflow fetched ${load.workflowFetched?.toFixed(0)} ms`);
    } else {
      await page.waitForTimeout(600);
      await panAndZoom(page, PAN_SECONDS);
    }
    const { profile: cpu } = await cdp.send("Profiler.stop");
    const trace = await browser.stopTracing();
    writeFileSync(path.join(out, `canvas-profile-${n}-${phase}.cpuprofile`), JSON.stringify(cpu));
    writeFileSync(path.join(out, `canvas-profile-${n}-${phase}.trace.json`), trace);
    print(`${phase}: main-thread self time by trace event`, selfTimeByEvent(trace));
    print(`${phase}: JS self time by function (V8 CPU profile)`, selfTimeByFunction(cpu));
  }
  console.log(`\nprofiles in ${path.relative(ROOT, out)}/canvas-profile-${n}-* (open the .trace.json in chrome://tracing or Perfetto, the .cpuprofile in DevTools)`);
  await context.close();
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const api = await Api.login();
  const cookies = await Api.sessionCookies();
  const { browser, close } = await launch();
  if (args.profile) {
    try {
      await profile(api, browser, cookies, SIZES.at(-1));
    } finally {
      await close();
    }
    return;
  }
  const results = { base: baseUrl(), chromium: browser.version(), at: new Date().toISOString(), editor: {}, live: null };
  try {
    for (const n of SIZES) {
      const doc = layeredDocument(n);
      const wf = await api.importWorkflow(doc);
      const loads = [];
      // Cold: a fresh context (empty HTTP cache); warm: the next navigations in it.
      const context = await newContext(browser, cookies, doc);
      let page;
      for (let r = 0; r <= RUNS; r++) {
        page = await context.newPage();
        const load = await loadEditor(page, `/workflows/${wf.id}`);
        loads.push(load);
        process.stderr.write(`[canvas] ${n} nodes load ${r === 0 ? "cold" : `warm ${r}`}: interactive ${load.interactive.toFixed(0)} ms (rendered ${load.rendered.toFixed(0)} ms)\n`);
        if (r < RUNS) await page.close();
      }
      // Back to the fitted view, then pan and zoom.
      await page.reload({ waitUntil: "commit" });
      await waitRendered(page);
      await page.waitForTimeout(600);
      const frames = await recordFrames(browser, page, () => panAndZoom(page, PAN_SECONDS));
      process.stderr.write(
        `[canvas] ${n} nodes pan/zoom: work p95 ${frames.work.p95.toFixed(1)} ms, rAF p95 ${frames.raf.p95.toFixed(1)} ms; work p95 by phase: ${Object.entries(frames.phases)
          .map(([k, v]) => `${k} ${v.p95.toFixed(1)} (n=${v.n})`)
          .join(", ")}\n`,
      );
      const warm = loads.slice(1);
      results.editor[n] = {
        nodes: doc.nodes.length,
        edges: doc.edges.length,
        workflow: wf.id,
        cold: loads[0],
        warm,
        warmInteractiveMedian: stats(warm.map((l) => l.interactive)).median,
        panZoom: frames,
      };
      await context.close();
    }

    if (LIVE_NODES > 0) results.live = await liveRun(api, browser, cookies);
  } finally {
    await close();
  }
  report(results);
  mkdirSync(path.dirname(JSON_OUT), { recursive: true });
  writeFileSync(JSON_OUT, JSON.stringify(results, null, 2));
  process.stderr.write(`[canvas] raw results: ${path.relative(ROOT, JSON_OUT)}\n`);
}

async function liveRun(api, browser, cookies) {
  const latencyMs = 40_000;
  const doc = fanOutDocument(LIVE_NODES, latencyMs);
  const wf = await api.importWorkflow(doc);
  const context = await newContext(browser, cookies, doc);
  const page = await context.newPage();
  const run = await api.post(`workflows/${wf.id}/runs/`, { inputs: { topic: "the tides" } });
  const t0 = Date.now();
  await page.goto(`/runs/${run.id}`, { waitUntil: "commit" });
  await waitRendered(page);
  // Wait until they all run at once (or stop trying after 30 s and say how many did).
  let running = 0;
  try {
    await until(
      async () => {
        const r = await api.get(`runs/${run.id}/`);
        running = r.node_counts.running ?? 0;
        return running >= LIVE_NODES;
      },
      { timeout: 30_000, interval: 250, message: `${LIVE_NODES} nodes running` },
    );
  } catch (e) {
    process.stderr.write(`[canvas] ${e.message}\n`);
  }
  const allRunningAfterMs = Date.now() - t0;
  await until(async () => (await page.getByTestId("run-active-counts").textContent()).includes(` ${running} `), { timeout: 10_000, message: "the page shows them running" }).catch(() => {});
  const windows = {};
  for (const [name, prepare] of [
    ["fitView", async () => {}],
    [
      "zoom100",
      async () => {
        // 100 %: the nodes render in full, with their streamed text.
        const mid = await centre(page.locator(".react-flow"));
        await page.mouse.move(mid.x, mid.y);
        const steps = stepsTo100(await zoomOf(page));
        for (let i = 0; i < steps; i++) await page.mouse.wheel(0, -100);
        await page.waitForTimeout(500);
      },
    ],
  ]) {
    await prepare();
    const before = (await api.get(`runs/${run.id}/`)).last_seq;
    const frames = await recordFrames(browser, page, () => page.waitForTimeout(LIVE_SECONDS * 1000));
    const after = await api.get(`runs/${run.id}/`);
    const tokensShown = await page.locator('[data-testid^="node-tokens-"]').count();
    windows[name] = {
      ...frames,
      eventsPerSecond: (after.last_seq - before) / frames.seconds,
      runningAtEnd: after.node_counts.running ?? 0,
      nodesShowingTokens: tokensShown,
    };
    process.stderr.write(
      `[canvas] live ${name}: work p95 ${frames.work.p95.toFixed(1)} ms, rAF p95 ${frames.raf.p95.toFixed(1)} ms, ${windows[name].eventsPerSecond.toFixed(0)} events/s, ${windows[name].runningAtEnd} running\n`,
    );
  }
  await api.post(`runs/${run.id}/cancel/`).catch(() => {});
  await context.close();
  return { nodes: LIVE_NODES, latencyMs, run: run.id, runningAtOnce: running, allRunningAfterMs, windows };
}

/** One 60 Hz vsync: headless Chromium presents frames on it, so rAF intervals are multiples of it. */
const VSYNC_MS = 1000 / 60;

function report(r) {
  const rows = [];
  const ms = (v) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : "n/a");
  const row = (figure, value, goal, goalLabel = goal ? `${goal} ms` : "—") =>
    rows.push([figure, ms(value), goalLabel, goal && Number.isFinite(value) ? (value / goal).toFixed(2) : "—"]);
  for (const e of Object.values(r.editor)) {
    const label = `editor ${e.nodes} nodes / ${e.edges} edges`;
    row(`${label}: navigation → interactive, cold`, e.cold.interactive, GOALS.interactiveMs);
    row(`${label}: navigation → interactive, warm (median of ${e.warm.length})`, e.warmInteractiveMedian, GOALS.interactiveMs);
    row(`${label}: first input → next frame`, e.cold.input.toFrame, null);
    row(`${label}: pan/zoom frame time p95 (main-thread work per frame)`, e.panZoom.work.p95, GOALS.panFrameMs);
    row(`${label}: pan/zoom presented-frame interval p95 (rAF)`, e.panZoom.raf.p95, VSYNC_MS, "16.7 ms (1 vsync)");
  }
  if (r.live) {
    for (const [name, w] of Object.entries(r.live.windows)) {
      const label = `run view, ${r.live.runningAtOnce} nodes running, ${name === "fitView" ? "fit view" : "zoom 100 %"} (${w.eventsPerSecond.toFixed(0)} events/s)`;
      row(`${label}: frame time p95 (main-thread work per frame)`, w.work.p95, GOALS.liveFrameMs);
      row(`${label}: presented-frame interval p95 (rAF)`, w.raf.p95, 2 * VSYNC_MS, "33.3 ms (2 vsyncs)");
    }
  }
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((x) => x[i].length), ["figure", "value", "goal", "ratio"][i].length));
  const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
  console.log(line(["figure", "value", "goal", "ratio"]));
  console.log(`|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`);
  for (const x of rows) console.log(line(x));
  console.log("(rAF intervals are locked to 60 Hz vsync in headless Chromium: 16.7 ms ± 0.1 ms means a frame at every vsync.)");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
