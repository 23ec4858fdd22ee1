import { describe, expect, it } from "vitest";
import { checkConnection, findPath, idAllocator, nextId, topoOrder } from "./graph";

const nodes = [
  { id: "in", type: "input" },
  { id: "a", type: "researcher" },
  { id: "b", type: "coder" },
  { id: "c", type: "reviewer" },
  { id: "out", type: "output" },
];
const edges = [
  { id: "e1", source: "in", target: "a" },
  { id: "e2", source: "a", target: "b" },
  { id: "e3", source: "b", target: "c" },
];

describe("connection validation", () => {
  it("accepts a valid edge", () => {
    expect(checkConnection(nodes, edges, "c", "out")).toEqual({ ok: true });
  });

  it("refuses a cycle and names its path", () => {
    const r = checkConnection(nodes, edges, "c", "a");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe("cycle");
    expect(r.path).toEqual(["c", "a", "b", "c"]);
    expect(r.reason).toContain("c → a → b → c");
  });

  it("refuses self loops", () => {
    const r = checkConnection(nodes, edges, "a", "a");
    expect(r.ok || r.code).toBe("self_loop");
  });

  it("refuses edges into an input node", () => {
    const r = checkConnection(nodes, edges, "a", "in");
    expect(r.ok || r.code).toBe("input_no_incoming");
  });

  it("refuses edges out of an output node", () => {
    const r = checkConnection(nodes, edges, "out", "c");
    expect(r.ok || r.code).toBe("output_no_outgoing");
  });

  it("refuses duplicates and missing nodes", () => {
    expect(checkConnection(nodes, edges, "a", "b").ok || "dup").toBe("dup");
    const r = checkConnection(nodes, edges, "a", "ghost");
    expect(r.ok || r.code).toBe("missing_node");
    expect(checkConnection(nodes, edges, null, "a").ok).toBe(false);
  });

  it("uses labels in reasons", () => {
    const r = checkConnection(nodes, edges, "c", "a", (id) => id.toUpperCase());
    expect(!r.ok && r.reason).toContain("C → A → B → C");
  });

  it("detects long cycles quickly", () => {
    const n = 5000;
    const many = Array.from({ length: n }, (_, i) => ({ id: `n${i}`, type: "coder" }));
    const chain = Array.from({ length: n - 1 }, (_, i) => ({ id: `e${i}`, source: `n${i}`, target: `n${i + 1}` }));
    const t = performance.now();
    const r = checkConnection(many, chain, `n${n - 1}`, "n0");
    expect(r.ok).toBe(false);
    expect(performance.now() - t).toBeLessThan(200);
  });
});

describe("paths and order", () => {
  it("finds a shortest path", () => {
    expect(findPath(edges, "in", "c")).toEqual(["in", "a", "b", "c"]);
    expect(findPath(edges, "c", "in")).toBeNull();
  });

  it("orders topologically, or says there is a cycle", () => {
    expect(topoOrder(["in", "a", "b", "c"], edges)).toEqual(["in", "a", "b", "c"]);
    expect(
      topoOrder(
        ["a", "b"],
        [
          { id: "x", source: "a", target: "b" },
          { id: "y", source: "b", target: "a" },
        ],
      ),
    ).toBeNull();
  });
});

describe("ids", () => {
  it("takes the next free number per prefix", () => {
    expect(nextId("coder", ["coder-1", "coder-7", "reviewer-9"])).toBe("coder-8");
    expect(nextId("coder", [])).toBe("coder-1");
  });

  it("never repeats within an allocator", () => {
    const alloc = idAllocator(["e1", "e2"], "");
    expect([alloc("e"), alloc("e"), alloc("e")]).toEqual(["e3", "e4", "e5"]);
    const nodes2 = idAllocator(["a.b-1"]);
    expect(nodes2("a.b")).toBe("a.b-2");
  });
});
