import { describe, expect, it } from "vitest";
import type { Run } from "../api/types";
import { mergeRun } from "../pages/RunsPage";

const run = (id: string, trigger: string) =>
  ({ id, workflow: "w", state: "running", trigger, created_at: "2027-01-01T00:00:00Z" }) as unknown as Run;

describe("the runs list filtered by trigger", () => {
  it("takes pushed runs of that trigger only", () => {
    expect(mergeRun([], run("a", "schedule"), { trigger: "schedule" })).toHaveLength(1);
    expect(mergeRun([], run("b", "manual"), { trigger: "schedule" })).toHaveLength(0);
    expect(mergeRun([], run("c", "webhook"), {})).toHaveLength(1);
  });
});
