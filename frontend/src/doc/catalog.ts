/**
 * How each node type looks in the palette and on the canvas. What a type IS (agent or control, its
 * handles, the config of a new node) is the engine's, read from `./engine`.
 */
import { ENGINE_NODE_TYPES } from "./engine";
import type { NodeType } from "./types";

interface Presentation {
  title: string;
  description: string;
  /** Accent colour (border, icon background). */
  color: string;
  /** SVG path data drawn in a 24×24 box. */
  icon: string;
}

export interface NodeTypeInfo extends Presentation {
  type: NodeType;
  agent: boolean;
  hasTarget: boolean;
  hasSource: boolean;
}

const PRESENTATION: Record<NodeType, Presentation> = {
  input: {
    title: "Input",
    description: "Exposes the run inputs",
    color: "#0ea5e9",
    icon: "M4 12h11m0 0-4-4m4 4-4 4M20 4v16",
  },
  researcher: {
    title: "Researcher",
    description: "Gathers and summarises facts",
    color: "#6366f1",
    icon: "M11 4a7 7 0 1 0 0 14 7 7 0 0 0 0-14Zm5 12 4.5 4.5",
  },
  coder: {
    title: "Coder",
    description: "Writes and edits code",
    color: "#10b981",
    icon: "m8 8-4 4 4 4m8-8 4 4-4 4M14 5l-4 14",
  },
  reviewer: {
    title: "Reviewer",
    description: "Critiques and checks work",
    color: "#f59e0b",
    icon: "M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12Zm10-3a3 3 0 1 0 0 6 3 3 0 0 0 0-6Z",
  },
  coordinator: {
    title: "Coordinator",
    description: "Routes work to the next agents",
    color: "#ec4899",
    icon: "M12 3v6m0 0-7 6m7-6 7 6M5 15v6m14-6v6M12 9v12",
  },
  transformer: {
    title: "Transformer",
    description: "Reshapes data with JSONata",
    color: "#8b5cf6",
    icon: "M4 7h12l-3-3m3 13H4l3 3M20 7v10",
  },
  http: {
    title: "HTTP request",
    description: "Calls an API through the outbound guard",
    color: "#0d9488",
    icon: "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18Zm-9 9h18M12 3c2.5 2.5 3.5 5.5 3.5 9s-1 6.5-3.5 9c-2.5-2.5-3.5-5.5-3.5-9s1-6.5 3.5-9Z",
  },
  approval: {
    title: "Approval",
    description: "Waits for a person to approve or reject",
    color: "#d97706",
    icon: "M9 12l2 2 4-4M12 3l7 3v6c0 4.5-3 7.5-7 9-4-1.5-7-4.5-7-9V6l7-3Z",
  },
  workflow: {
    title: "Sub-workflow",
    description: "Runs another workflow, once or in a bounded loop",
    color: "#2563eb",
    icon: "M4 4h7v7H4V4Zm9 9h7v7h-7v-7ZM7.5 11v5.5H13",
  },
  map: {
    title: "Map",
    description: "Runs a workflow for each item of a list",
    color: "#7c3aed",
    icon: "M3 12h5m0 0 4-6h8M8 12h12M8 12l4 6h8",
  },
  output: {
    title: "Output",
    description: "Collects the run's result",
    color: "#64748b",
    icon: "M4 4v16M9 12h11m0 0-4-4m4 4-4 4",
  },
};

export const NODE_CATALOG = Object.fromEntries(
  (Object.keys(PRESENTATION) as NodeType[]).map((type) => {
    const engine = ENGINE_NODE_TYPES[type];
    const info: NodeTypeInfo = {
      type,
      ...PRESENTATION[type],
      agent: engine.category === "agent",
      hasTarget: engine.has_target,
      hasSource: engine.has_source,
    };
    return [type, info];
  }),
) as Record<NodeType, NodeTypeInfo>;

export const PALETTE_ORDER: NodeType[] = [
  "input",
  "researcher",
  "coder",
  "reviewer",
  "coordinator",
  "transformer",
  "http",
  "approval",
  "workflow",
  "map",
  "output",
];

const UNKNOWN: NodeTypeInfo = {
  type: "transformer",
  title: "Unknown",
  description: "Unknown node type",
  color: "#ef4444",
  icon: "M12 8v5m0 3v.01M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18Z",
  agent: false,
  hasTarget: true,
  hasSource: true,
};

export function nodeTypeInfo(type: string): NodeTypeInfo {
  return (NODE_CATALOG as Record<string, NodeTypeInfo | undefined>)[type] ?? UNKNOWN;
}

export function isKnownType(type: string): type is NodeType {
  return Object.prototype.hasOwnProperty.call(NODE_CATALOG, type);
}
