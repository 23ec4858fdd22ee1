import { describe, expect, it } from "vitest";
import type { Run } from "../api/types";
import { coerceInputs } from "../editor/components/RunDialog";
import { renameKey } from "../editor/components/WorkflowPanel";
import type { LogEntry, TimelineBar } from "../live/runState";
import { filterLogs } from "../run/logFilter";
import { timelineRows } from "../run/Timeline";
import { mergeRun, runDurationMs } from "./RunsPage";

const run = (id: string, state: Run["state"], created: string, workflow = "w1"): Run =>
  ({ id, state, created_at: created, workflow, started_at: null, finished_at: null }) as Run;

describe("run list merging (workspace socket)", () => {
  it("updates in place, inserts new runs newest first, drops runs leaving the filter", () => {
    const list = [run("b", "running", "2026-01-02"), run("a", "succeeded", "2026-01-01")];
    const updated = mergeRun(list, run("b", "succeeded", "2026-01-02"), {});
    expect(updated.map((r) => [r.id, r.state])).toEqual([
      ["b", "succeeded"],
      ["a", "succeeded"],
    ]);
    expect(mergeRun(list, run("c", "queued", "2026-01-03"), {}).map((r) => r.id)).toEqual(["c", "b", "a"]);
    expect(mergeRun(list, run("c", "queued", "2026-01-03", "other"), { workflow: "w1" })).toBe(list);
    expect(mergeRun(list, run("b", "failed", "2026-01-02"), { state: "running" }).map((r) => r.id)).toEqual(["a"]);
  });

  it("computes durations", () => {
    expect(runDurationMs({ started_at: "2026-01-01T00:00:00Z", finished_at: "2026-01-01T00:00:02Z" })).toBe(2000);
    expect(runDurationMs({ started_at: null, finished_at: null })).toBeNull();
  });
});

describe("run inputs form", () => {
  it("coerces typed values and reports errors", () => {
    const decls = {
      topic: { type: "string", required: true },
      n: { type: "integer" },
      x: { type: "number", required: true },
      flag: { type: "boolean" },
      obj: { type: "object" },
      list: { type: "array" },
      opt: { type: "string", default: "d" },
    };
    const ok = coerceInputs(decls, {
      topic: "tides",
      n: "3",
      x: "1.5",
      flag: true,
      obj: '{"a":1}',
      list: "[1]",
      opt: "",
    });
    expect(ok.errors).toEqual({});
    expect(ok.inputs).toEqual({ topic: "tides", n: 3, x: 1.5, flag: true, obj: { a: 1 }, list: [1], opt: "d" });
    const bad = coerceInputs(decls, { topic: "", n: "1.5", x: "abc", obj: "[1]", list: "{" });
    expect(Object.keys(bad.errors).sort()).toEqual(["list", "n", "obj", "topic", "x"]);
  });

  it("renames input declarations in place", () => {
    expect(Object.keys(renameKey({ a: 1, b: 2, c: 3 }, "b", "z"))).toEqual(["a", "z", "c"]);
  });
});

describe("logs and timeline", () => {
  const logs: LogEntry[] = [
    { seq: 1, ts: "t", nodeId: "a", level: "info", message: "Calling model" },
    { seq: 2, ts: "t", nodeId: "b", level: "error", message: "boom" },
    { seq: 3, ts: "t", nodeId: "a", level: "debug", message: "tokens 30" },
  ];
  it("filters by level, node and text", () => {
    const all = new Set(["debug", "info", "warning", "error"] as const);
    expect(filterLogs(logs, { levels: all, search: "", nodeId: "" })).toBe(logs);
    expect(filterLogs(logs, { levels: new Set(["error"]), search: "", nodeId: "" }).map((l) => l.seq)).toEqual([2]);
    expect(filterLogs(logs, { levels: all, search: "MODEL", nodeId: "" }).map((l) => l.seq)).toEqual([1]);
    expect(filterLogs(logs, { levels: all, search: "", nodeId: "a" }).map((l) => l.seq)).toEqual([1, 3]);
  });

  it("groups bars per worker and stacks concurrent ones in lanes", () => {
    const bars: TimelineBar[] = [
      { nodeId: "a", attempt: 1, worker: "w2", start: 0, end: 100, state: "succeeded" },
      { nodeId: "b", attempt: 1, worker: "w1", start: 10, end: 50, state: "succeeded" },
      { nodeId: "c", attempt: 1, worker: "w1", start: 20, end: null, state: "running" },
      { nodeId: "d", attempt: 1, worker: "w1", start: 60, end: 80, state: "failed" },
    ];
    const { rows, t0, t1 } = timelineRows(bars, 200);
    expect(rows.map((r) => r.worker)).toEqual(["w1", "w2"]);
    expect(rows[0]!.lanes).toEqual([0, 1, 0]);
    expect(rows[0]!.laneCount).toBe(2);
    expect([t0, t1]).toEqual([0, 200]);
    expect(timelineRows([], 0).rows).toEqual([]);
  });
});
