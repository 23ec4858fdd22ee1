import { describe, expect, it } from "vitest";
import { copySelection, isClipboardPayload, pastePayload } from "./clipboard";
import type { DocEdge, DocNode } from "./types";

const node = (id: string, type = "coder", x = 0): DocNode => ({
  id,
  type,
  position: { x, y: 0 },
  data: { label: id, config: { prompt: `{{ $.x }} ${id}` } },
});
const nodes = [node("coder-1"), node("coder-2", "coder", 100), node("reviewer-1", "reviewer", 200)];
const edges: DocEdge[] = [
  { id: "e1", source: "coder-1", target: "coder-2", target_handle: null },
  { id: "e2", source: "coder-2", target: "reviewer-1", target_handle: "draft" },
];

describe("copy/paste", () => {
  it("copies the selection and only the edges inside it", () => {
    const p = copySelection(nodes, edges, new Set(["coder-1", "coder-2"]));
    expect(isClipboardPayload(p)).toBe(true);
    expect(p.nodes.map((n) => n.id)).toEqual(["coder-1", "coder-2"]);
    expect(p.edges.map((e) => e.id)).toEqual(["e1"]);
  });

  it("gives fresh ids and remaps inner edges", () => {
    const p = copySelection(nodes, edges, new Set(["coder-1", "coder-2", "reviewer-1"]));
    const r = pastePayload(
      p,
      nodes.map((n) => n.id),
      edges.map((e) => e.id),
    );
    expect(r.nodes.map((n) => n.id)).toEqual(["coder-3", "coder-4", "reviewer-2"]);
    expect(r.edges).toHaveLength(2);
    expect(r.edges.map((e) => e.id)).toEqual(["e3", "e4"]);
    expect(r.edges[0]).toMatchObject({ source: "coder-3", target: "coder-4" });
    expect(r.edges[1]).toMatchObject({ source: "coder-4", target: "reviewer-2", target_handle: "draft" });
    // No pasted id collides with an existing one.
    const all = new Set([...nodes.map((n) => n.id), ...r.nodes.map((n) => n.id)]);
    expect(all.size).toBe(nodes.length + r.nodes.length);
  });

  it("keeps the input key an edge delivered under, so pasted prompts still work", () => {
    const p = copySelection(nodes, edges, new Set(["coder-1", "coder-2"]));
    const r = pastePayload(
      p,
      nodes.map((n) => n.id),
      ["e1", "e2"],
    );
    expect(r.edges[0]!.target_handle).toBe("coder-1");
  });

  it("offsets positions and does not share objects with the source", () => {
    const p = copySelection(nodes, edges, new Set(["coder-2"]));
    const r = pastePayload(p, ["coder-2"], [], { x: 10, y: 20 });
    expect(r.nodes[0]!.position).toEqual({ x: 110, y: 20 });
    r.nodes[0]!.data.config.prompt = "changed";
    expect(nodes[1]!.data.config.prompt).not.toBe("changed");
  });

  it("pasting twice gives distinct ids", () => {
    const p = copySelection(nodes, edges, new Set(["coder-1"]));
    const first = pastePayload(
      p,
      nodes.map((n) => n.id),
      [],
    );
    const second = pastePayload(p, [...nodes.map((n) => n.id), ...first.nodes.map((n) => n.id)], []);
    expect(first.nodes[0]!.id).not.toBe(second.nodes[0]!.id);
  });

  it("rejects foreign payloads", () => {
    expect(isClipboardPayload({ nodes: [], edges: [] })).toBe(false);
    expect(isClipboardPayload("x")).toBe(false);
  });
});
