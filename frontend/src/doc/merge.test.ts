import { describe, expect, it } from "vitest";
import { mergeDocuments } from "./merge";
import { emptyDocument } from "./engine";
import type { DocEdge, DocNode, WorkflowDocument } from "./types";

function node(id: string, type: string, config: Record<string, unknown> = {}, label = id): DocNode {
  return { id, type, position: { x: 0, y: 0 }, data: { label, config } };
}
function edge(id: string, source: string, target: string, extra: Partial<DocEdge> = {}): DocEdge {
  return {
    id,
    source,
    target,
    source_handle: "out",
    target_handle: source,
    transform: null,
    condition: null,
    label: "",
    ...extra,
  };
}
function base(): WorkflowDocument {
  const d = emptyDocument("Base");
  d.inputs = { topic: { type: "string", required: true, description: "" } };
  d.nodes = [
    node("input-1", "input"),
    node("researcher-1", "researcher", { prompt: "a", temperature: 0.7 }),
    node("output-1", "output"),
  ];
  d.edges = [edge("e1", "input-1", "researcher-1"), edge("e2", "researcher-1", "output-1")];
  return d;
}

describe("mergeDocuments", () => {
  it("keeps both sides' edits to different nodes and fields", () => {
    const b = base();
    const theirs = structuredClone(b);
    theirs.nodes[1]!.data.label = "Their label";
    theirs.nodes.push(node("reviewer-1", "reviewer"));
    theirs.edges.push(edge("e3", "researcher-1", "reviewer-1"));
    const mine = structuredClone(b);
    mine.nodes[1]!.data.config.prompt = "my prompt";
    mine.nodes.push(node("transformer-1", "transformer", { expression: "x" }));
    mine.settings.max_concurrency = 3;

    const r = mergeDocuments(b, theirs, mine);
    expect(r.conflicts).toEqual([]);
    const doc = r.document;
    const researcher = doc.nodes.find((n) => n.id === "researcher-1")!;
    expect(researcher.data.label).toBe("Their label");
    expect(researcher.data.config.prompt).toBe("my prompt");
    expect(researcher.data.config.temperature).toBe(0.7);
    expect(doc.nodes.map((n) => n.id)).toEqual(["input-1", "researcher-1", "output-1", "reviewer-1", "transformer-1"]);
    expect(doc.edges.map((e) => e.id)).toEqual(["e1", "e2", "e3"]);
    expect(doc.settings.max_concurrency).toBe(3);
    expect(doc.inputs).toEqual(b.inputs);
  });

  it("gives my node a fresh id when both added the same id, and my edges follow it", () => {
    const b = base();
    const theirs = structuredClone(b);
    theirs.nodes.push(node("coder-1", "coder", {}, "Their coder"));
    theirs.edges.push(edge("e3", "researcher-1", "coder-1"));
    const mine = structuredClone(b);
    mine.nodes.push(node("coder-1", "coder", {}, "My coder"));
    mine.edges.push(edge("e3", "coder-1", "output-1"));

    const r = mergeDocuments(b, theirs, mine);
    expect(r.renamed.nodes).toEqual({ "coder-1": "coder-2" });
    expect(r.renamed.edges).toEqual({ e3: "e4" });
    const labels = Object.fromEntries(r.document.nodes.map((n) => [n.id, n.data.label]));
    expect(labels["coder-1"]).toBe("Their coder");
    expect(labels["coder-2"]).toBe("My coder");
    const e4 = r.document.edges.find((e) => e.id === "e4")!;
    expect([e4.source, e4.target, e4.target_handle]).toEqual(["coder-2", "output-1", "coder-2"]);
    expect(r.document.edges.find((e) => e.id === "e3")!.target).toBe("coder-1");
  });

  it("mine wins a field both changed, and says so", () => {
    const b = base();
    const theirs = structuredClone(b);
    theirs.nodes[1]!.data.config.prompt = "theirs";
    theirs.name = "Their name";
    const mine = structuredClone(b);
    mine.nodes[1]!.data.config.prompt = "mine";
    mine.name = "My name";
    const r = mergeDocuments(b, theirs, mine);
    expect(r.document.nodes[1]!.data.config.prompt).toBe("mine");
    expect(r.document.name).toBe("My name");
    expect(r.conflicts).toEqual(["node researcher-1: data.config.prompt", "name"]);
  });

  it("a removal loses to a change, and edges without an end are dropped", () => {
    const b = base();
    const theirs = structuredClone(b);
    theirs.nodes = theirs.nodes.filter((n) => n.id !== "output-1");
    theirs.edges = theirs.edges.filter((e) => e.id !== "e2");
    const mine = structuredClone(b);
    mine.nodes = mine.nodes.filter((n) => n.id !== "input-1");
    mine.edges = mine.edges.filter((e) => e.id !== "e1");
    mine.edges.push(edge("e3", "researcher-1", "output-1"));
    mine.nodes[0]!.data.config.temperature = 1; // researcher-1, which nobody removed

    const r = mergeDocuments(b, theirs, mine);
    expect(r.document.nodes.map((n) => n.id)).toEqual(["researcher-1"]);
    expect(r.droppedEdges).toEqual(["e3"]);
    expect(r.document.edges).toEqual([]);

    // They removed a node I changed: it stays.
    const mine2 = structuredClone(b);
    mine2.nodes[2]!.data.label = "Renamed output";
    const r2 = mergeDocuments(b, theirs, mine2);
    expect(r2.document.nodes.find((n) => n.id === "output-1")?.data.label).toBe("Renamed output");
    expect(r2.conflicts).toEqual(["node output-1: removed by them, changed by you (kept)"]);
  });

  it("is the identity when only one side changed", () => {
    const b = base();
    const mine = structuredClone(b);
    mine.nodes[1]!.position = { x: 5, y: 6 };
    expect(mergeDocuments(b, b, mine).document).toEqual(mine);
    expect(mergeDocuments(b, mine, b).document).toEqual(mine);
  });
});
