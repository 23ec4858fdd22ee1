import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { NODE_CATALOG } from "../../doc/catalog";
import { defaultConfig } from "../../doc/engine";
import type { NodeConfig } from "../../doc/types";
import { useLastRun } from "../lastRun";
import { CHILD, childApi, ConfigHarness, OWN } from "./childWorkflowFixtures";
import { MapNodeEditor } from "./MapNodeEditor";

function editor(initial: NodeConfig) {
  const seen: NodeConfig[] = [];
  render(<ConfigHarness initial={initial} seen={seen} Editor={MapNodeEditor} />);
  return seen;
}

const type = (testId: string, value: string) => fireEvent.change(screen.getByTestId(testId), { target: { value } });

beforeEach(() => useLastRun.setState({ workflowId: OWN, status: "none", run: null }));
afterEach(() => vi.unstubAllGlobals());

describe("map node", () => {
  it("has the engine's default config", () => {
    expect(NODE_CATALOG.map.hasSource && NODE_CATALOG.map.hasTarget).toBe(true);
    expect(defaultConfig("map")).toMatchObject({ items: "", max_parallel: 10, on_item_error: "fail" });
  });

  it("edits the items, the child (the same picker as the workflow node), parallelism and item errors", async () => {
    childApi({ item: { type: "string" }, index: { type: "integer" } });
    const seen = editor(defaultConfig("map"));
    type("map-items", "$.run.topics");
    expect(seen.at(-1)!.items).toBe("$.run.topics");
    await waitFor(() => expect((screen.getByTestId("child-workflow") as HTMLSelectElement).options.length).toBe(2));
    type("child-workflow", CHILD);
    expect(seen.at(-1)).toMatchObject({ workflow: CHILD, version: null });
    expect((await screen.findByTestId("map-child-gets")).textContent).toContain("gets item and index as its inputs");
    type("map-on-item-error", "collect");
    expect(seen.at(-1)!.on_item_error).toBe("collect");
    type("map-max-parallel", "50");
    expect(seen.at(-1)!.max_parallel).toBe(50);
  });

  it("refuses a parallelism out of bounds", () => {
    childApi({});
    const seen = editor(defaultConfig("map"));
    for (const bad of ["0", "1001", "-3"]) {
      type("map-max-parallel", bad);
      expect(screen.getByTestId("map-max-parallel-error").textContent).toMatch(/between 1 and 1000/);
    }
    expect(seen).toEqual([]);
    // Empty is the engine's default (10), not an error.
    type("map-max-parallel", "");
    expect(seen.at(-1)!.max_parallel).toBeNull();
    expect(screen.queryByTestId("map-max-parallel-error")).toBeNull();
  });

  it("warns of a child input a map cannot give", async () => {
    childApi({ topic: { type: "string", required: true }, index: { type: "integer" } });
    editor({ ...defaultConfig("map"), workflow: CHILD });
    expect((await screen.findByTestId("map-child-unmet")).textContent).toContain("requires topic");
    expect(screen.getByTestId("map-child-gets").textContent).toContain("gets index as its input.");
  });
});
