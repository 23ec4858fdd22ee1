import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Run } from "../api/types";
import { FakeEventLog, FakeSocket, ev, sampleLog } from "../test/fakes";
import { REFUSALS, refusalOf, type Refusal } from "./protocol";
import { attachRunStream, createRunViewStore } from "./runStore";
import { RunEventStream } from "./runStream";
import { WorkspaceStream } from "./workspaceStream";

/** The server ends the socket with a close code, as a browser reports it. */
function serverClose(s: FakeSocket, code: number): void {
  s.onclose?.({ code, reason: "", wasClean: true });
}

function runStream(log = new FakeEventLog()) {
  const statuses: string[] = [];
  const refusals: Refusal[] = [];
  const applied: number[] = [];
  const stream = new RunEventStream({
    runId: "r1",
    createSocket: (url) => new FakeSocket(url),
    fetchEvents: log.fetch,
    onEvents: (events) => applied.push(...events.map((e) => e.seq)),
    onStatus: (s) => statuses.push(s),
    onRefused: (r) => refusals.push(r),
    socketUrl: (id, after) => `ws://x/ws/runs/${id}/?after=${after}`,
    random: () => 0.5,
  }).start();
  return { stream, statuses, refusals, applied, log };
}

describe("a socket the server refuses", () => {
  beforeEach(() => {
    FakeSocket.reset();
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it.each([4401, 4403, 4404])("is not reconnected after %i, and says why", async (code) => {
    const { stream, statuses, refusals } = runStream();
    const s = FakeSocket.last();
    s.open();
    for (const e of sampleLog(2)) s.event(e);
    serverClose(s, code);
    expect(stream.status).toBe("refused");
    expect(statuses.at(-1)).toBe("refused");
    expect(refusals).toEqual([{ code, reason: REFUSALS[code] }]);
    expect(stream.refusal?.reason).toMatch(/\w/);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(refusals).toHaveLength(1);
  });

  it("stops repairing a gap too: the event pages would be refused the same way", async () => {
    const log = new FakeEventLog();
    log.failNext = 1;
    const { stream, applied } = runStream(log);
    const s = FakeSocket.last();
    s.open();
    s.event(ev(1, "run.started", {}));
    s.event(ev(3, "node.started", { attempt: 1 }, "a"));
    await vi.advanceTimersByTimeAsync(0);
    expect(log.calls).toHaveLength(1);
    serverClose(s, 4401);
    log.add(...sampleLog(3));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(log.calls).toHaveLength(1);
    expect(applied).toEqual([1]);
    expect(stream.status).toBe("refused");
  });

  it("is reconnected after 4408 (too slow), from the last applied seq", async () => {
    const { stream, refusals } = runStream();
    const s = FakeSocket.last();
    s.open();
    for (const e of sampleLog(4)) s.event(e);
    serverClose(s, 4408);
    expect(stream.status).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(375);
    expect(FakeSocket.all).toHaveLength(2);
    expect(FakeSocket.last().url).toBe("ws://x/ws/runs/r1/?after=4");
    expect(refusals).toEqual([]);
    expect(refusalOf({ code: 4408 })).toBeNull();
    expect(refusalOf({ code: 1006 })).toBeNull();
    expect(refusalOf(undefined)).toBeNull();
  });

  it("puts the reason into the run view's store", () => {
    const store = createRunViewStore(["a"]);
    const { detach } = attachRunStream(store, "r1", {
      createSocket: (url) => new FakeSocket(url),
      fetchEvents: new FakeEventLog().fetch,
      scheduler: { request: () => 0, cancel: () => {} },
    });
    serverClose(FakeSocket.last(), 4404);
    expect(store.getState()).toMatchObject({ stream: "refused", streamRefusal: REFUSALS[4404] });
    detach();
    expect(store.getState().streamRefusal).toBe(REFUSALS[4404]);
  });

  it("stops the workspace stream after 4401, and reconnects it after 4408", async () => {
    const runs: Run[] = [];
    const connected: boolean[] = [];
    const refusals: Refusal[] = [];
    new WorkspaceStream({
      onRun: (r) => runs.push(r),
      onStatus: (c) => connected.push(c),
      onRefused: (r) => refusals.push(r),
      createSocket: (u) => new FakeSocket(u),
      url: "ws://x/ws/workspace/",
      random: () => 0.5,
    }).start();
    FakeSocket.last().open();
    serverClose(FakeSocket.last(), 4408);
    await vi.advanceTimersByTimeAsync(375);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.last().open();
    serverClose(FakeSocket.last(), 4401);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeSocket.all).toHaveLength(2);
    expect(refusals).toEqual([{ code: 4401, reason: REFUSALS[4401] }]);
    expect(connected).toEqual([true, false, true, false]);
  });
});
