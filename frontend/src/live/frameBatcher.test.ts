import { describe, expect, it } from "vitest";
import { ev } from "../test/fakes";
import { FrameBatcher, type FrameScheduler } from "./frameBatcher";
import type { RunEvent } from "./protocol";
import { applyBatch, attachRunStream, createRunViewStore } from "./runStore";
import { FakeEventLog, FakeSocket } from "../test/fakes";

class ManualFrames implements FrameScheduler {
  queue: (() => void)[] = [];
  request(cb: () => void) {
    this.queue.push(cb);
    return this.queue.length;
  }
  cancel() {
    this.queue = [];
  }
  tick() {
    const q = this.queue;
    this.queue = [];
    for (const cb of q) cb();
  }
}

describe("FrameBatcher", () => {
  it("hands over everything pushed within a frame in one batch", () => {
    const frames = new ManualFrames();
    const batches: number[][] = [];
    const b = new FrameBatcher<number>((xs) => batches.push(xs), frames);
    b.push(1, 2);
    b.push(3);
    expect(batches).toEqual([]);
    expect(frames.queue).toHaveLength(1);
    frames.tick();
    b.push(4);
    frames.tick();
    frames.tick();
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it("flush() delivers now, dispose() drops", () => {
    const frames = new ManualFrames();
    const batches: number[][] = [];
    const b = new FrameBatcher<number>((xs) => batches.push(xs), frames);
    b.push(1);
    b.flush();
    b.push(2);
    b.dispose();
    frames.tick();
    expect(batches).toEqual([[1]]);
  });
});

describe("token coalescing into the run store", () => {
  it("200 nodes streaming at once: one store update per frame, text intact (frame time: bench/canvas_bench.sh)", () => {
    const ids = Array.from({ length: 200 }, (_, i) => `n${i}`);
    const store = createRunViewStore(ids);
    const frames = new ManualFrames();
    let updates = 0;
    store.subscribe(() => updates++);
    const batcher = new FrameBatcher<RunEvent>((events) => applyBatch(store, events), frames);
    let seq = 0;
    const events: RunEvent[] = [];
    for (const id of ids) events.push(ev(++seq, "node.started", { attempt: 1, worker: "w" }, id));
    batcher.pushAll(events);
    frames.tick();
    expect(updates).toBe(1);
    const before = store.getState().nodes;

    for (let frame = 0; frame < 10; frame++) {
      // ~10 token messages per node per second arrive; simulate a burst of 3 per node per frame.
      for (let k = 0; k < 3; k++)
        for (const id of ids) batcher.push(ev(++seq, "node.token", { attempt: 1, delta: `${frame}.${k} ` }, id));
      frames.tick();
    }
    expect(updates).toBe(11);
    const s = store.getState();
    expect(s.nodes.n0!.text).toBe(Array.from({ length: 10 }, (_, f) => `${f}.0 ${f}.1 ${f}.2 `).join(""));
    expect(s.nodes.n199!.text.length).toBe(s.nodes.n0!.text.length);
    expect(s.lastSeq).toBe(seq);
    expect(s.nodes).not.toBe(before);
  });

  it("a batch of duplicates does not notify subscribers", () => {
    const store = createRunViewStore(["a"]);
    let updates = 0;
    store.subscribe(() => updates++);
    const e = ev(1, "node.queued", { attempt: 1 }, "a");
    applyBatch(store, [e]);
    applyBatch(store, [e]);
    expect(updates).toBe(1);
  });

  it("attachRunStream: socket events reach the store in frame batches, with the stream status", async () => {
    FakeSocket.reset();
    const frames = new ManualFrames();
    const store = createRunViewStore(["a"]);
    const { detach } = attachRunStream(store, "r1", {
      createSocket: (url) => new FakeSocket(url),
      fetchEvents: new FakeEventLog().fetch,
      scheduler: frames,
    });
    const s = FakeSocket.last();
    s.open();
    s.event(ev(1, "run.started", {}));
    s.event(ev(2, "node.started", { attempt: 1, worker: "w" }, "a"));
    s.event(ev(3, "node.token", { attempt: 1, delta: "hi" }, "a"));
    s.send({ kind: "replayed", seq: 3 });
    expect(store.getState().lastSeq).toBe(0);
    frames.tick();
    expect(store.getState()).toMatchObject({ lastSeq: 3, runState: "running", stream: "live", batches: 1 });
    expect(store.getState().nodes.a!.text).toBe("hi");
    s.event(ev(4, "run.succeeded", {}));
    detach();
    expect(store.getState().runState).toBe("succeeded");
  });
});
