import { describe, expect, it } from "vitest";
import { ev } from "../test/fakes";
import type { RunEvent } from "./protocol";
import { applyEvents, initialRunViewState, reduceLog } from "./runState";

const T0 = Date.parse("2026-02-01T10:00:00.000Z");
const at = (ms: number) => T0 + ms;

function happyLog(): RunEvent[] {
  return [
    ev(1, "run.queued", {}, undefined, at(0)),
    ev(2, "run.started", {}, undefined, at(10)),
    ev(3, "node.queued", { attempt: 1 }, "in", at(11)),
    ev(4, "node.started", { attempt: 1, worker: "celery@w1" }, "in", at(12)),
    ev(
      5,
      "node.succeeded",
      {
        attempt: 1,
        usage: { prompt_tokens: 0, completion_tokens: 0 },
        cost_usd: 0,
        duration_ms: 1,
        output_preview: { topic: "x" },
      },
      "in",
      at(13),
    ),
    ev(
      6,
      "edge.handoff",
      { edge_id: "e1", source: "in", target: "a", bytes: 17, preview: { topic: "x" } },
      undefined,
      at(14),
    ),
    ev(7, "node.queued", { attempt: 1 }, "a", at(15)),
    ev(8, "node.started", { attempt: 1, worker: "celery@w2" }, "a", at(20)),
    ev(9, "node.token", { attempt: 1, delta: "Hel" }, "a", at(30)),
    ev(10, "node.log", { level: "info", message: "calling model" }, "a", at(31)),
    ev(11, "node.token", { attempt: 1, delta: "lo" }, "a", at(40)),
    ev(
      12,
      "node.succeeded",
      {
        attempt: 1,
        usage: { prompt_tokens: 9, completion_tokens: 30 },
        cost_usd: 0.01,
        duration_ms: 25,
        output_preview: "Hello",
      },
      "a",
      at(45),
    ),
    ev(13, "node.skipped", { reason: "condition false" }, "b", at(46)),
    ev(
      14,
      "run.succeeded",
      { output: { text: "Hello" }, duration_ms: 50, prompt_tokens: 9, completion_tokens: 30, cost_usd: 0.01 },
      undefined,
      at(60),
    ),
  ];
}

describe("run view reduction", () => {
  it("reduces a whole run", () => {
    const s = reduceLog(["in", "a", "b"], happyLog());
    expect(s.runState).toBe("succeeded");
    expect(s.lastSeq).toBe(14);
    expect(s.nodes.a).toMatchObject({
      state: "succeeded",
      text: "Hello",
      worker: "celery@w2",
      durationMs: 25,
      costUsd: 0.01,
    });
    expect(s.nodes.b).toMatchObject({ state: "skipped", skipReason: "condition false" });
    expect(s.counts).toMatchObject({ pending: 0, succeeded: 2, skipped: 1, running: 0 });
    expect(s.edges.e1).toMatchObject({ count: 1, bytes: 17, preview: { topic: "x" } });
    expect(s.logs.map((l) => l.message)).toEqual(["calling model"]);
    expect(s.output).toEqual({ text: "Hello" });
    expect(s.promptTokens + s.completionTokens).toBe(39);
    expect(s.bars).toEqual([
      { nodeId: "in", attempt: 1, worker: "celery@w1", start: at(12), end: at(13), state: "succeeded" },
      { nodeId: "a", attempt: 1, worker: "celery@w2", start: at(20), end: at(45), state: "succeeded" },
    ]);
  });

  it("is the same whether applied at once, one by one, or in frames", () => {
    const log = happyLog();
    const whole = reduceLog(["in", "a", "b"], log);
    let one = initialRunViewState(["in", "a", "b"]);
    for (const e of log) one = applyEvents(one, [e]);
    let frames = initialRunViewState(["in", "a", "b"]);
    for (let i = 0; i < log.length; i += 4) frames = applyEvents(frames, log.slice(i, i + 4));
    expect(one).toEqual(whole);
    expect(frames).toEqual(whole);
  });

  it("ignores duplicates: replaying the log again changes nothing", () => {
    const log = happyLog();
    const s = reduceLog(["in", "a", "b"], log);
    const again = applyEvents(s, log);
    expect(again).toBe(s);
    const partial = applyEvents(s, [log[8]!, log[10]!]);
    expect(partial.nodes.a!.text).toBe("Hello");
  });

  it("sorts an out-of-order log before reducing", () => {
    const log = happyLog();
    const shuffled = [log[5]!, log[0]!, ...log.slice(6).reverse(), ...log.slice(1, 5)];
    expect(reduceLog(["in", "a", "b"], shuffled)).toEqual(reduceLog(["in", "a", "b"], log));
  });

  it("keeps untouched nodes' identity (no re-render)", () => {
    const s0 = reduceLog(["a", "b"], [ev(1, "node.started", { attempt: 1, worker: "w" }, "a")]);
    const s1 = applyEvents(s0, [ev(2, "node.token", { attempt: 1, delta: "x" }, "a")]);
    expect(s1.nodes.b).toBe(s0.nodes.b);
    expect(s1.nodes.a).not.toBe(s0.nodes.a);
    expect(s1.logs).toBe(s0.logs);
    expect(s1.bars).toBe(s0.bars);
  });

  it("retries: a new attempt clears the streamed text, late tokens of an old attempt are dropped", () => {
    const s = reduceLog(
      ["a"],
      [
        ev(1, "node.started", { attempt: 1, worker: "w1" }, "a", at(0)),
        ev(2, "node.token", { attempt: 1, delta: "first" }, "a", at(1)),
        ev(
          3,
          "node.retrying",
          { attempt: 1, delay_ms: 1000, error: { code: "rate_limit", message: "429" } },
          "a",
          at(2),
        ),
        ev(4, "node.queued", { attempt: 2 }, "a", at(3)),
        ev(5, "node.started", { attempt: 2, worker: "w2" }, "a", at(4)),
        ev(6, "node.token", { attempt: 1, delta: "late" }, "a", at(5)),
        ev(7, "node.token", { attempt: 2, delta: "second" }, "a", at(6)),
      ],
    );
    expect(s.nodes.a).toMatchObject({ state: "running", attempt: 2, text: "second", worker: "w2" });
    expect(s.bars.map((b) => [b.attempt, b.worker, b.state, b.end !== null])).toEqual([
      [1, "w1", "retrying", true],
      [2, "w2", "running", false],
    ]);
    expect(s.logs.some((l) => l.level === "warning" && l.message.includes("429"))).toBe(true);
    expect(s.counts.running).toBe(1);
  });

  it("counts queued/running/retrying as states change", () => {
    let s = initialRunViewState(["a", "b", "c"]);
    s = applyEvents(s, [
      ev(1, "node.queued", { attempt: 1 }, "a"),
      ev(2, "node.queued", { attempt: 1 }, "b"),
      ev(3, "node.started", { attempt: 1 }, "a"),
    ]);
    expect(s.counts).toMatchObject({ pending: 1, queued: 1, running: 1 });
    s = applyEvents(s, [ev(4, "node.retrying", { attempt: 1, delay_ms: 5 }, "a")]);
    expect(s.counts).toMatchObject({ running: 0, retrying: 1 });
    const total = Object.values(s.counts).reduce((x, y) => x + y, 0);
    expect(total).toBe(3);
  });

  it("a failed run keeps its error; a cancelled run marks its cancelled nodes and closes bars", () => {
    const failed = reduceLog(
      ["a"],
      [
        ev(1, "node.started", { attempt: 1, worker: "w" }, "a"),
        ev(2, "node.failed", { attempt: 1, error: { code: "boom", message: "Boom" } }, "a"),
        ev(3, "run.failed", { error: { code: "node_failed", message: "a failed" } }),
      ],
    );
    expect(failed.runState).toBe("failed");
    expect(failed.error).toEqual({ code: "node_failed", message: "a failed" });
    expect(failed.nodes.a).toMatchObject({ state: "failed", error: { code: "boom" } });

    const cancelled = reduceLog(
      ["a", "b"],
      [
        ev(1, "run.started", {}),
        ev(2, "node.started", { attempt: 1, worker: "w" }, "a"),
        ev(3, "run.cancelled", { reason: "by user", cancelled_nodes: ["a", "b"] }),
      ],
    );
    expect(cancelled.runState).toBe("cancelled");
    expect(cancelled.cancelReason).toBe("by user");
    expect(cancelled.nodes.a!.state).toBe("cancelled");
    expect(cancelled.nodes.b!.state).toBe("cancelled");
    expect(cancelled.bars[0]!.end).not.toBeNull();
    expect(cancelled.counts.cancelled).toBe(2);
  });

  it("shows an agent's tool calls and results in its node's log", () => {
    const s = reduceLog(
      [],
      [
        ev(1, "node.tool_call", { step: 0, call_id: "c1", name: "lookup", arguments: '{"q":"a"}' }, "a"),
        ev(2, "node.tool_result", { step: 1, call_id: "c1", name: "lookup", status: "ok", preview: "hits" }, "a"),
        ev(
          3,
          "node.tool_result",
          { step: 3, name: "fetch", status: "error", error: { code: "egress_refused", message: "private" } },
          "a",
        ),
      ],
    );
    expect(s.logs.map((l) => [l.nodeId, l.level, l.message])).toEqual([
      ["a", "info", 'Tool call lookup({"q":"a"})'],
      ["a", "info", "Tool result lookup: hits"],
      ["a", "warning", "Tool result fetch: egress_refused: private"],
    ]);
    expect([s.nodes.a!.toolCalls, s.nodes.a!.lastTool]).toEqual([1, "lookup"]);
  });

  it("accepts events for nodes it did not know", () => {
    const s = reduceLog([], [ev(1, "node.queued", { attempt: 1 }, "ghost")]);
    expect(s.nodes.ghost!.state).toBe("queued");
    expect(s.counts.queued).toBe(1);
  });
});
