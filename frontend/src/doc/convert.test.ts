import { describe, expect, it } from "vitest";
import {
  SOURCE_HANDLE_ID,
  TARGET_HANDLE_ID,
  UNKNOWN_NODE_TYPE,
  documentToFlow,
  edgeInputKey,
  flowToDocument,
} from "./convert";
import { emptyDocument } from "./engine";
import type { WorkflowDocument } from "./types";

const doc: WorkflowDocument = {
  ...emptyDocument("Research pipeline"),
  inputs: { topic: { type: "string", required: true, description: "" } },
  nodes: [
    {
      id: "researcher-1",
      type: "researcher",
      position: { x: 0, y: 0 },
      data: {
        label: "Primary researcher",
        config: {
          model: "mock/echo",
          temperature: 0.7,
          system_prompt: "You are a thorough researcher.",
          prompt: "Research {{ $.run.topic }}",
          max_tokens: 1024,
          timeout_s: 300,
          stream: true,
          response_format: "text",
          retry: { max_attempts: 3, backoff: "exponential", initial_delay_ms: 1000, max_delay_ms: 60000, jitter: true },
          on_error: null,
        },
      },
    },
    { id: "reviewer-1", type: "reviewer", position: { x: 300, y: 40.5 }, data: { label: "Reviewer", config: {} } },
    {
      id: "http-1",
      type: "webhook",
      position: { x: 600, y: 0 },
      data: { label: "Later", config: { url: "x" }, extra: 1 },
      width: 99,
    },
  ],
  edges: [
    {
      id: "e1",
      source: "researcher-1",
      target: "reviewer-1",
      source_handle: "out",
      target_handle: "research",
      transform: null,
      condition: null,
      label: "",
    },
    { id: "e2", source: "reviewer-1", target: "http-1" },
  ],
  x_custom: { kept: true },
};

describe("document ⇄ React Flow", () => {
  it("round-trips losslessly, unknown fields and types included", () => {
    const { meta, nodes, edges } = documentToFlow(structuredClone(doc));
    expect(flowToDocument(meta, nodes, edges)).toEqual(doc);
  });

  it("uses fixed React Flow handle ids, separate from the document's input key", () => {
    const { edges } = documentToFlow(doc);
    const e1 = edges[0]!;
    expect(e1.sourceHandle).toBe(SOURCE_HANDLE_ID);
    expect(e1.targetHandle).toBe(TARGET_HANDLE_ID);
    expect(e1.data?.target_handle).toBe("research");
    expect(e1.data?.source_handle).toBe("out");
  });

  it("maps an unknown node type to the fallback renderer and restores it", () => {
    const { nodes } = documentToFlow(doc);
    const http = nodes.find((n) => n.id === "http-1")!;
    expect(http.type).toBe(UNKNOWN_NODE_TYPE);
    expect(http.data.__type).toBe("webhook");
  });

  it("keeps edits made on the flow side", () => {
    const { meta, nodes, edges } = documentToFlow(doc);
    const moved = nodes.map((n) =>
      n.id === "reviewer-1"
        ? { ...n, position: { x: 10, y: 20 }, selected: true, measured: { width: 1, height: 2 } }
        : n,
    );
    const out = flowToDocument(meta, moved, edges);
    const reviewer = out.nodes.find((n) => n.id === "reviewer-1")!;
    expect(reviewer.position).toEqual({ x: 10, y: 20 });
    expect(reviewer).not.toHaveProperty("selected");
    expect(reviewer).not.toHaveProperty("measured");
  });

  it("defaults the input key to the source node id", () => {
    expect(edgeInputKey({ source: "a", target_handle: null })).toBe("a");
    expect(edgeInputKey({ source: "a", target_handle: "k" })).toBe("k");
  });
});
