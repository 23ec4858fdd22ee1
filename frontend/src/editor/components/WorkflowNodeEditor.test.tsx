import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { NODE_CATALOG, PALETTE_ORDER } from "../../doc/catalog";
import { defaultConfig } from "../../doc/engine";
import type { NodeConfig } from "../../doc/types";
import { useLastRun } from "../lastRun";
import { composeInputsObject, parseInputsObject } from "./childInputs";
import { CHILD, childApi, ConfigHarness, OWN } from "./childWorkflowFixtures";
import { WorkflowNodeEditor } from "./WorkflowNodeEditor";

function editor(initial: NodeConfig) {
  const seen: NodeConfig[] = [];
  render(<ConfigHarness initial={initial} seen={seen} Editor={WorkflowNodeEditor} />);
  return seen;
}

const type = (testId: string, value: string) => fireEvent.change(screen.getByTestId(testId), { target: { value } });

beforeEach(() => useLastRun.setState({ workflowId: OWN, status: "none", run: null }));
afterEach(() => vi.unstubAllGlobals());

describe("a workflow node's inputs as JSONata", () => {
  it("reads an object of one expression per key, and writes one back", () => {
    const text = `{"topic": $.run.topic, 'depth': $count(a, b), "q": "x, y: {z}" & $.q /* a, } */}`;
    expect([...parseInputsObject(text)!]).toEqual([
      ["topic", "$.run.topic"],
      ["depth", "$count(a, b)"],
      ["q", `"x, y: {z}" & $.q /* a, } */`],
    ]);
    expect(parseInputsObject(composeInputsObject(parseInputsObject(text)!))).toEqual(parseInputsObject(text));
    expect(
      composeInputsObject([
        ["a b", " 1 "],
        ["c", "  "],
      ]),
    ).toBe('{"a b": 1}');
    expect(composeInputsObject([])).toBe("{}");
    expect(parseInputsObject("")!.size).toBe(0);
    expect(parseInputsObject(" {} ")!.size).toBe(0);
  });

  it("refuses what is not such an object", () => {
    for (const text of [
      "$merge([{}, {}])",
      "{$k: 1}",
      '{"a": 1,}',
      '{"a": }',
      '{"a": 1, "a": 2}',
      '{"a": (1}',
      '{"a": "open}',
      "{} ~> $f",
    ])
      expect(parseInputsObject(text)).toBeNull();
  });
});

describe("workflow node", () => {
  it("is in the palette with the engine's default config", () => {
    expect(PALETTE_ORDER).toEqual(expect.arrayContaining(["workflow", "map"]));
    expect(NODE_CATALOG.workflow.agent).toBe(false);
    expect(defaultConfig("workflow")).toMatchObject({ workflow: "", inputs: "{}" });
  });

  it("picks the child and composes its inputs from one field per declared input", async () => {
    childApi({ topic: { type: "string", required: true }, depth: { type: "integer", default: 1 } });
    const seen = editor(defaultConfig("workflow"));
    const select = screen.getByTestId("child-workflow") as HTMLSelectElement;
    await waitFor(() => expect(select.options.length).toBe(2));
    // Its own workflow is not offered.
    expect([...select.options].map((o) => o.textContent)).toEqual(["Choose a workflow…", "Summarise"]);
    fireEvent.change(select, { target: { value: CHILD } });
    expect(seen.at(-1)).toMatchObject({ workflow: CHILD, version: null });

    await screen.findByTestId("child-input-topic");
    expect(screen.getByText("topic (string, required)")).toBeTruthy();
    type("child-input-topic", "$.run.topic ");
    expect(seen.at(-1)!.inputs).toBe('{"topic": $.run.topic}');
    // The trailing space stays in the field while the config holds the trimmed expression.
    expect((screen.getByTestId("child-input-topic") as HTMLInputElement).value).toBe("$.run.topic ");
    type("child-input-depth", "2");
    expect(seen.at(-1)!.inputs).toBe('{"topic": $.run.topic, "depth": 2}');
    type("child-input-topic", "");
    expect(seen.at(-1)!.inputs).toBe('{"depth": 2}');
    expect(screen.getByTestId("child-workflow-open").getAttribute("href")).toBe(`/workflows/${CHILD}`);
  });

  it("flags a key the child does not declare, and edits other expressions as text", async () => {
    childApi({ topic: { type: "string" } });
    const seen = editor({ ...defaultConfig("workflow"), workflow: CHILD, inputs: '{"topic": $.t, "stale": 1}' });
    expect(await screen.findByTestId("child-input-stale-undeclared")).toBeTruthy();
    type("child-input-stale", "");
    expect(seen.at(-1)!.inputs).toBe('{"topic": $.t}');

    fireEvent.click(screen.getByTestId("child-inputs-by-hand"));
    type("child-inputs-raw", "$merge([$.defaults, {'topic': $.t}])");
    expect(seen.at(-1)!.inputs).toBe("$merge([$.defaults, {'topic': $.t}])");
    // Not an object of expressions: it stays text.
    const byHand = screen.getByTestId("child-inputs-by-hand") as HTMLInputElement;
    expect(byHand.checked && byHand.disabled).toBe(true);
  });

  it("refuses bounds out of range in the form", async () => {
    childApi({}, 3);
    const seen = editor({ ...defaultConfig("workflow"), workflow: CHILD, repeat_until: "output.ok" });
    await screen.findByTestId("child-inputs-none");
    for (const bad of ["101", "0", "2.5"]) {
      type("workflow-max-iterations", bad);
      expect(screen.getByTestId("workflow-max-iterations-error").textContent).toMatch(/between 1 and 100/);
    }
    expect(seen.some((c) => c.max_iterations !== null && c.max_iterations !== undefined)).toBe(false);
    type("workflow-max-iterations", "3");
    expect(seen.at(-1)!.max_iterations).toBe(3);
    expect(screen.queryByTestId("workflow-max-iterations-error")).toBeNull();

    // The version: at most the child's current one.
    type("child-version", "4");
    expect(screen.getByTestId("child-version-error").textContent).toMatch(/between 1 and 3/);
    expect(seen.at(-1)!.version).toBeNull();
    type("child-version", "2");
    expect(seen.at(-1)!.version).toBe(2);
  });

  it("asks for max iterations only with a condition", () => {
    childApi({});
    const seen = editor(defaultConfig("workflow"));
    expect(screen.queryByTestId("workflow-max-iterations")).toBeNull();
    type("workflow-repeat-until", "iteration >= 2");
    expect(seen.at(-1)!.repeat_until).toBe("iteration >= 2");
    expect(screen.getByTestId("workflow-max-iterations")).toBeTruthy();
    type("workflow-repeat-until", "  ");
    expect(seen.at(-1)!.repeat_until).toBeNull();
  });
});
