import { describe, expect, it, vi } from "vitest";
import { generateLayeredDocument } from "../doc/generate";
import { emptyDocument } from "../doc/engine";
import { COALESCE_MS, HISTORY_LIMIT } from "./history";
import { createEditorStore, indexProblems, selectedNodeId } from "./store";

function store() {
  return createEditorStore(emptyDocument("t"));
}

describe("graph edits", () => {
  it("adds nodes with fresh ids, type defaults and selection", () => {
    const s = store();
    const a = s.getState().addNode("researcher", { x: 0, y: 0 });
    const b = s.getState().addNode("researcher", { x: 10, y: 0 });
    expect([a, b]).toEqual(["researcher-1", "researcher-2"]);
    const n = s.getState().nodes[1]!;
    expect(n.data.label).toBe("Researcher 2");
    expect(n.data.config.temperature).toBe(0.7);
    expect(selectedNodeId(s.getState())).toBe(b);
  });

  it("connects valid handles and refuses invalid ones with a reason", () => {
    const s = store();
    const st = () => s.getState();
    const input = st().addNode("input", { x: 0, y: 0 });
    const a = st().addNode("coder", { x: 0, y: 0 });
    const b = st().addNode("reviewer", { x: 0, y: 0 });
    const out = st().addNode("output", { x: 0, y: 0 });
    expect(st().connect({ source: input, target: a }).ok).toBe(true);
    expect(st().connect({ source: a, target: b }).ok).toBe(true);
    expect(st().connect({ source: b, target: out }).ok).toBe(true);
    const edge = st().edges[0]!;
    expect(edge).toMatchObject({ id: "e1", sourceHandle: "out", targetHandle: "in" });
    expect(edge.data).toMatchObject({ source_handle: "out", target_handle: input });

    const cycle = st().connect({ source: b, target: a });
    expect(cycle.ok).toBe(false);
    expect(st().notice?.text).toMatch(/cycle/);
    expect(st().connect({ source: out, target: a }).ok).toBe(false);
    expect(st().notice?.text).toMatch(/output node/);
    expect(st().connect({ source: a, target: input }).ok).toBe(false);
    expect(st().notice?.text).toMatch(/input node/);
    expect(st().edges).toHaveLength(3);
  });

  it("deleting a node deletes its edges", () => {
    const s = createEditorStore(generateLayeredDocument(5, 1));
    const before = s.getState().edges.length;
    s.getState().deleteElements(["coder-2"], []);
    expect(s.getState().nodes.some((n) => n.id === "coder-2")).toBe(false);
    expect(s.getState().edges.length).toBe(before - 2);
    expect(s.getState().edges.some((e) => e.source === "coder-2" || e.target === "coder-2")).toBe(false);
  });

  it("multi-select, delete selection, select all", () => {
    const s = createEditorStore(generateLayeredDocument(6, 2));
    s.getState().select(["researcher-1", "coder-2"]);
    expect(s.getState().nodes.filter((n) => n.selected)).toHaveLength(2);
    s.getState().deleteSelection();
    expect(s.getState().nodes).toHaveLength(4);
    s.getState().selectAll();
    expect(s.getState().nodes.every((n) => n.selected)).toBe(true);
  });

  it("updates config, edge and meta", () => {
    const s = createEditorStore(generateLayeredDocument(3, 1));
    s.getState().updateConfig("researcher-1", { temperature: 1.2 });
    s.getState().updateEdge("e1", { condition: "true" });
    s.getState().updateMeta({ name: "Renamed" });
    const doc = s.getState().getDocument();
    expect(doc.nodes.find((n) => n.id === "researcher-1")!.data.config.temperature).toBe(1.2);
    expect(doc.edges[0]!.condition).toBe("true");
    expect(doc.name).toBe("Renamed");
  });

  it("counts document edits in `revision`, not selection", () => {
    const s = createEditorStore(generateLayeredDocument(3, 1));
    const r0 = s.getState().revision;
    s.getState().select(["researcher-1"]);
    s.getState().onNodesChange([{ type: "dimensions", id: "researcher-1", dimensions: { width: 200, height: 60 } }]);
    expect(s.getState().revision).toBe(r0);
    s.getState().updateNode("researcher-1", { label: "x" });
    expect(s.getState().revision).toBe(r0 + 1);
  });

  it("read-only documents refuse edits", () => {
    const s = store();
    s.getState().loadDocument(generateLayeredDocument(3, 1), { readOnly: true });
    expect(s.getState().addNode("coder", { x: 0, y: 0 })).toBe("");
    s.getState().deleteElements(["researcher-1"], []);
    expect(s.getState().nodes).toHaveLength(3);
  });
});

describe("undo/redo", () => {
  it("undoes and redoes 60 steps exactly", () => {
    const s = store();
    const docs = [s.getState().getDocument()];
    for (let i = 0; i < 60; i++) {
      if (i % 3 === 0) s.getState().addNode("coder", { x: i * 10, y: 0 });
      else if (i % 3 === 1) s.getState().updateMeta({ name: `name ${i}` });
      else s.getState().setPositions({ [s.getState().nodes[0]!.id]: { x: i, y: i } });
      docs.push(s.getState().getDocument());
    }
    for (let i = 60; i > 0; i--) {
      expect(s.getState().getDocument()).toEqual(docs[i]);
      s.getState().undo();
    }
    expect(s.getState().getDocument()).toEqual(docs[0]);
    s.getState().undo(); // nothing left: no-op
    expect(s.getState().getDocument()).toEqual(docs[0]);
    for (let i = 1; i <= 60; i++) {
      s.getState().redo();
      expect(s.getState().getDocument()).toEqual(docs[i]);
    }
  });

  it("a new edit clears redo", () => {
    const s = store();
    s.getState().addNode("coder", { x: 0, y: 0 });
    s.getState().addNode("coder", { x: 0, y: 0 });
    s.getState().undo();
    expect(s.getState().history.future).toHaveLength(1);
    s.getState().addNode("reviewer", { x: 0, y: 0 });
    expect(s.getState().history.future).toHaveLength(0);
    s.getState().redo();
    expect(s.getState().nodes.map((n) => n.id)).toEqual(["coder-1", "reviewer-1"]);
  });

  it("keeps at most HISTORY_LIMIT steps", () => {
    const s = store();
    for (let i = 0; i < HISTORY_LIMIT + 20; i++) s.getState().updateMeta({ description: String(i) });
    expect(s.getState().history.past).toHaveLength(HISTORY_LIMIT);
    expect(HISTORY_LIMIT).toBeGreaterThanOrEqual(50);
  });

  it("coalesces typing in one field into one step", () => {
    vi.useFakeTimers();
    try {
      const s = createEditorStore(generateLayeredDocument(3, 1));
      for (const ch of "hello") {
        s.getState().updateNode(
          "researcher-1",
          { label: s.getState().nodes[1]!.data.label + ch },
          "researcher-1:label",
        );
        vi.advanceTimersByTime(100);
      }
      expect(s.getState().history.past).toHaveLength(1);
      vi.advanceTimersByTime(COALESCE_MS + 10);
      s.getState().updateNode("researcher-1", { label: "again" }, "researcher-1:label");
      expect(s.getState().history.past).toHaveLength(2);
      s.getState().undo();
      s.getState().undo();
      expect(s.getState().nodes[1]!.data.label).toBe("researcher-1");
    } finally {
      vi.useRealTimers();
    }
  });

  it("a drag is one step, and saves once at its end", () => {
    const s = createEditorStore(generateLayeredDocument(3, 1));
    const r0 = s.getState().revision;
    const start = s.getState().nodes[1]!.position;
    for (let i = 1; i <= 20; i++)
      s.getState().onNodesChange([
        { type: "position", id: "researcher-1", position: { x: start.x + i, y: start.y }, dragging: true },
      ]);
    expect(s.getState().revision).toBe(r0);
    s.getState().onNodesChange([{ type: "position", id: "researcher-1", dragging: false }]);
    expect(s.getState().revision).toBe(r0 + 1);
    expect(s.getState().history.past).toHaveLength(1);
    expect(s.getState().nodes[1]!.position.x).toBe(start.x + 20);
    s.getState().undo();
    expect(s.getState().nodes[1]!.position).toEqual(start);
  });
});

describe("clipboard in the store", () => {
  it("copy/paste gives fresh ids, keeps inner edges, selects the pasted nodes", () => {
    const s = createEditorStore(generateLayeredDocument(4, 1));
    s.getState().select(["researcher-1", "coder-2"]);
    const ids = s.getState().paste(s.getState().copy()!);
    expect(ids).toEqual(["researcher-2", "coder-3"]);
    const st = s.getState();
    expect(st.nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(ids);
    const inner = st.edges.filter((e) => ids.includes(e.source) && ids.includes(e.target));
    expect(inner).toHaveLength(1);
    expect(inner[0]!.source).toBe("researcher-2");
    expect(new Set(st.edges.map((e) => e.id)).size).toBe(st.edges.length);
    s.getState().undo();
    expect(s.getState().nodes).toHaveLength(4);
  });

  it("cut removes, duplicate copies in place", () => {
    const s = createEditorStore(generateLayeredDocument(4, 1));
    s.getState().select(["coder-2"]);
    s.getState().cut();
    expect(s.getState().nodes.some((n) => n.id === "coder-2")).toBe(false);
    // Fresh per type: coder-2 is gone, so the pasted one is coder-1.
    expect(s.getState().paste()).toEqual(["coder-1"]);
    expect(s.getState().duplicate()).toEqual(["coder-2"]);
  });
});

describe("problems", () => {
  it("indexes problems by node and edge, and marks a cycle's path", () => {
    const idx = indexProblems([
      { code: "cycle", message: "cycle", severity: "error", node_id: "a", path: ["a", "b", "a"] },
      { code: "unknown_model", message: "m", severity: "error", node_id: "c", field: "data.config.model" },
      { code: "bad_expr", message: "x", severity: "error", edge_id: "e1" },
    ]);
    expect(Object.keys(idx.byNode).sort()).toEqual(["a", "b", "c"]);
    expect(idx.byEdge.e1).toHaveLength(1);
  });
});
