import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeEventLog, FakeSocket, ev, sampleLog } from "../test/fakes";
import type { RunEvent } from "./protocol";
import { runSocketUrl } from "./protocol";
import { RunEventStream, backoffDelay } from "./runStream";

function start(opts: { after?: number; log?: FakeEventLog; random?: () => number } = {}) {
  const log = opts.log ?? new FakeEventLog();
  const applied: RunEvent[] = [];
  const statuses: string[] = [];
  const stream = new RunEventStream({
    runId: "r1",
    ...(opts.after !== undefined ? { after: opts.after } : {}),
    createSocket: (url) => new FakeSocket(url),
    fetchEvents: log.fetch,
    onEvents: (e) => applied.push(...e),
    onStatus: (s) => statuses.push(s),
    socketUrl: (id, after) => `ws://x/ws/runs/${id}/?after=${after}`,
    random: opts.random ?? (() => 0.5),
    pageLimit: 500,
  }).start();
  return { stream, log, applied, statuses, seqs: () => applied.map((e) => e.seq) };
}

function expectGapless(applied: RunEvent[], upTo: number) {
  expect(applied.map((e) => e.seq)).toEqual(Array.from({ length: upTo }, (_, i) => i + 1));
}

describe("RunEventStream", () => {
  beforeEach(() => {
    FakeSocket.reset();
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it("replays from the given seq, then streams live", () => {
    const { applied, statuses, stream } = start();
    const s = FakeSocket.last();
    expect(s.url).toBe("ws://x/ws/runs/r1/?after=0");
    s.open();
    for (const e of sampleLog(5)) s.event(e);
    s.send({ kind: "replayed", seq: 5 });
    s.event(ev(6, "node.log", { level: "info", message: "live" }, "a"));
    expectGapless(applied, 6);
    expect(statuses).toEqual(["replaying", "live"]);
    expect(stream.lastSeq).toBe(6);
  });

  it("ignores duplicates and anything at or below the last applied seq", () => {
    const { applied } = start();
    const s = FakeSocket.last();
    const log = sampleLog(4);
    for (const e of log) s.event(e);
    s.event(log[1]!);
    s.event(log[3]!);
    s.event(log[0]!);
    expectGapless(applied, 4);
  });

  it("buffers an out-of-order event and repairs the gap from the API", async () => {
    const log = new FakeEventLog().add(...sampleLog(8));
    const { applied, stream } = start({ log });
    const s = FakeSocket.last();
    for (const e of log.events.slice(0, 5)) s.event(e);
    s.event(log.events[6]!); // 7 before 6
    expect(stream.lastSeq).toBe(5);
    await vi.advanceTimersByTimeAsync(0);
    expect(log.calls).toEqual([{ after: 5, limit: 500 }]);
    // 6, 7 and 8 came from the API; the late socket copies change nothing.
    s.event(log.events[5]!);
    s.event(log.events[7]!);
    expectGapless(applied, 8);
    expect(stream.repairs).toBe(1);
  });

  it("pages through a large gap until caught up, applying each event once", async () => {
    const log = new FakeEventLog().add(...sampleLog(1201));
    const { applied } = start({ log });
    const s = FakeSocket.last();
    s.event(log.events[1200]!); // seq 1201 arrives first
    await vi.advanceTimersByTimeAsync(0);
    expect(log.calls.map((c) => c.after)).toEqual([0, 500, 1000]);
    expectGapless(applied, 1201);
  });

  it("treats a ping or replayed beyond the last applied seq as a gap", async () => {
    const log = new FakeEventLog().add(...sampleLog(9));
    const { applied } = start({ log });
    const s = FakeSocket.last();
    for (const e of log.events.slice(0, 5)) s.event(e);
    s.send({ kind: "ping", seq: 5 });
    await vi.advanceTimersByTimeAsync(0);
    expect(log.calls).toHaveLength(0);
    s.send({ kind: "ping", seq: 9 });
    await vi.advanceTimersByTimeAsync(0);
    expect(log.calls).toEqual([{ after: 5, limit: 500 }]);
    expectGapless(applied, 9);
  });

  it("retries a failed repair fetch with backoff", async () => {
    const log = new FakeEventLog().add(...sampleLog(4));
    log.failNext = 2;
    const errors: unknown[] = [];
    const stream = new RunEventStream({
      runId: "r1",
      createSocket: (url) => new FakeSocket(url),
      fetchEvents: log.fetch,
      onEvents: () => undefined,
      onError: (e) => errors.push(e),
      random: () => 0.5,
    }).start();
    FakeSocket.last().send({ kind: "ping", seq: 4 });
    await vi.advanceTimersByTimeAsync(0);
    expect(errors).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(errors).toHaveLength(2);
    expect(stream.lastSeq).toBe(4);
  });

  it("reconnects with exponential backoff and jitter, resuming after the last applied seq", async () => {
    const log = new FakeEventLog().add(...sampleLog(10));
    const { applied, statuses } = start({ log });
    let s = FakeSocket.last();
    for (const e of log.events.slice(0, 3)) s.event(e);
    s.drop();
    expect(statuses.at(-1)).toBe("reconnecting");
    // attempt 1: base 500 ms, equal jitter with random 0.5 → 375 ms
    await vi.advanceTimersByTimeAsync(374);
    expect(FakeSocket.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.all).toHaveLength(2);
    s = FakeSocket.last();
    expect(s.url).toBe("ws://x/ws/runs/r1/?after=3");
    // This one fails before any message: attempt 2 → 750 ms.
    s.drop();
    await vi.advanceTimersByTimeAsync(749);
    expect(FakeSocket.all).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    s = FakeSocket.last();
    expect(s.url).toBe("ws://x/ws/runs/r1/?after=3");
    s.open();
    // The server replays after 3 (with an overlap the client drops).
    for (const e of log.events.slice(2, 10)) s.event(e);
    s.send({ kind: "replayed", seq: 10 });
    expectGapless(applied, 10);
    // A message resets the backoff: the next drop waits the first delay again.
    s.drop();
    await vi.advanceTimersByTimeAsync(375);
    expect(FakeSocket.all).toHaveLength(4);
  });

  it("caps the backoff", () => {
    expect(backoffDelay(1, () => 1)).toBe(500);
    expect(backoffDelay(2, () => 1)).toBe(1000);
    expect(backoffDelay(30, () => 1)).toBe(10_000);
    expect(backoffDelay(30, () => 0)).toBe(5_000);
  });

  it("stops reconnecting once a terminal event is applied", async () => {
    const { statuses, stream } = start();
    const s = FakeSocket.last();
    s.event(ev(1, "run.started", {}));
    s.event(ev(2, "run.succeeded", { output: {}, duration_ms: 5 }));
    expect(stream.done).toBe(true);
    expect(statuses.at(-1)).toBe("done");
    s.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it("close() stops everything", async () => {
    const { stream } = start();
    const s = FakeSocket.last();
    stream.close();
    expect(s.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(stream.status).toBe("closed");
  });

  it("starts after a given seq and ignores garbage", () => {
    const { applied } = start({ after: 10 });
    const s = FakeSocket.last();
    expect(s.url).toContain("after=10");
    s.onmessage?.({ data: "not json" });
    s.send({ kind: "event" });
    s.send({ kind: "mystery", seq: 1 });
    s.event(ev(10, "node.log", { level: "info", message: "old" }, "a"));
    s.event(ev(11, "node.log", { level: "info", message: "new" }, "a"));
    expect(applied.map((e) => e.seq)).toEqual([11]);
  });
});

describe("runSocketUrl", () => {
  it("follows the page's scheme", () => {
    expect(runSocketUrl("r 1", 4, { protocol: "https:", host: "h:1" })).toBe("wss://h:1/ws/runs/r%201/?after=4");
    expect(runSocketUrl("r", 0, { protocol: "http:", host: "h" })).toBe("ws://h/ws/runs/r/?after=0");
  });
});
