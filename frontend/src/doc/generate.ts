/**
 * Builds large, valid workflows quickly (benchmarks, e2e): one input, `n - 2` agents in
 * layers of `width`, one output; each agent takes one edge from the previous layer.
 */
import { NODE_CATALOG } from "./catalog";
import { defaultConfig, emptyDocument } from "./engine";
import type { DocEdge, DocNode, NodeType, WorkflowDocument } from "./types";

const AGENTS: NodeType[] = ["researcher", "coder", "reviewer", "transformer"];

export function generateLayeredDocument(n: number, width = 20, model = "mock/echo"): WorkflowDocument {
  const doc = emptyDocument(`Generated ${n}-node workflow`);
  doc.settings.default_model = model;
  doc.inputs = { topic: { type: "string", required: false, description: "Anything" } };
  const nodes: DocNode[] = [];
  const edges: DocEdge[] = [];
  const node = (id: string, type: NodeType, x: number, y: number): DocNode => {
    const config = defaultConfig(type);
    if (NODE_CATALOG[type].agent) {
      config.model = model;
      config.prompt = "";
    }
    return { id, type, position: { x, y }, data: { label: id, config } };
  };
  nodes.push(node("input-1", "input", 0, (width * 120) / 2));
  let prev: string[] = ["input-1"];
  let layer = 0;
  let made = 0;
  const agents = Math.max(0, n - 2);
  while (made < agents) {
    layer++;
    const count = Math.min(width, agents - made);
    const cur: string[] = [];
    for (let i = 0; i < count; i++) {
      const type = AGENTS[(made + i) % AGENTS.length]!;
      const id = `${type}-${made + i + 1}`;
      nodes.push(node(id, type, layer * 300, i * 120));
      const source = prev[i % prev.length]!;
      edges.push({
        id: `e${edges.length + 1}`,
        source,
        target: id,
        source_handle: "out",
        target_handle: source,
        transform: null,
        condition: null,
        label: "",
      });
      cur.push(id);
    }
    made += count;
    prev = cur;
  }
  nodes.push(node("output-1", "output", (layer + 1) * 300, (width * 120) / 2));
  for (const source of prev)
    edges.push({
      id: `e${edges.length + 1}`,
      source,
      target: "output-1",
      source_handle: "out",
      target_handle: source,
      transform: null,
      condition: null,
      label: "",
    });
  doc.nodes = nodes;
  doc.edges = edges;
  return doc;
}
