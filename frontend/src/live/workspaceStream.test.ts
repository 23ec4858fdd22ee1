import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Run } from "../api/types";
import { FakeSocket } from "../test/fakes";
import { WorkspaceStream } from "./workspaceStream";

describe("WorkspaceStream", () => {
  beforeEach(() => {
    FakeSocket.reset();
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it("passes run messages on, ignores pings, reconnects", async () => {
    const runs: Run[] = [];
    const w = new WorkspaceStream({
      onRun: (r) => runs.push(r),
      createSocket: (u) => new FakeSocket(u),
      url: "ws://x/ws/workspace/",
      random: () => 0.5,
    }).start();
    const s = FakeSocket.last();
    s.open();
    s.send({ kind: "ping" });
    s.send({ kind: "run", run: { id: "r1", state: "running" } });
    expect(runs.map((r) => r.id)).toEqual(["r1"]);
    s.drop();
    await vi.advanceTimersByTimeAsync(400);
    expect(FakeSocket.all).toHaveLength(2);
    w.close();
    FakeSocket.last().drop();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(FakeSocket.all).toHaveLength(2);
  });
});
