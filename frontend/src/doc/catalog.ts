import { DEFAULT_RETRY, type NodeConfig, type NodeType } from "./types";

export interface NodeTypeInfo {
  type: NodeType;
  title: string;
  description: string;
  /** Accent colour (border, icon background). */
  color: string;
  /** SVG path data drawn in a 24×24 box. */
  icon: string;
  agent: boolean;
  hasTarget: boolean;
  hasSource: boolean;
  defaultConfig: () => NodeConfig;
}

const agentConfig = (temperature: number, system_prompt: string, prompt = ""): NodeConfig => ({
  model: null,
  temperature,
  system_prompt,
  prompt,
  max_tokens: 1024,
  timeout_s: 300,
  stream: true,
  response_format: "text",
  retry: { ...DEFAULT_RETRY },
  on_error: null,
});

export const NODE_CATALOG: Record<NodeType, NodeTypeInfo> = {
  input: {
    type: "input",
    title: "Input",
    description: "Exposes the run inputs",
    color: "#0ea5e9",
    icon: "M4 12h11m0 0-4-4m4 4-4 4M20 4v16",
    agent: false,
    hasTarget: false,
    hasSource: true,
    defaultConfig: () => ({}),
  },
  researcher: {
    type: "researcher",
    title: "Researcher",
    description: "Gathers and summarises facts",
    color: "#6366f1",
    icon: "M11 4a7 7 0 1 0 0 14 7 7 0 0 0 0-14Zm5 12 4.5 4.5",
    agent: true,
    hasTarget: true,
    hasSource: true,
    defaultConfig: () =>
      agentConfig(0.7, "You are a thorough researcher.", "Research {{ $.run.topic }}"),
  },
  coder: {
    type: "coder",
    title: "Coder",
    description: "Writes and edits code",
    color: "#10b981",
    icon: "m8 8-4 4 4 4m8-8 4 4-4 4M14 5l-4 14",
    agent: true,
    hasTarget: true,
    hasSource: true,
    defaultConfig: () => agentConfig(0.2, "You are a careful senior software engineer."),
  },
  reviewer: {
    type: "reviewer",
    title: "Reviewer",
    description: "Critiques and checks work",
    color: "#f59e0b",
    icon: "M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12Zm10-3a3 3 0 1 0 0 6 3 3 0 0 0 0-6Z",
    agent: true,
    hasTarget: true,
    hasSource: true,
    defaultConfig: () => agentConfig(0.3, "You are a strict reviewer. Point out every problem."),
  },
  coordinator: {
    type: "coordinator",
    title: "Coordinator",
    description: "Routes work to the next agents",
    color: "#ec4899",
    icon: "M12 3v6m0 0-7 6m7-6 7 6M5 15v6m14-6v6M12 9v12",
    agent: true,
    hasTarget: true,
    hasSource: true,
    defaultConfig: () => ({
      ...agentConfig(
        0.2,
        "You coordinate a team. Answer with the labels of the edges to take.",
      ),
      response_format: "json",
    }),
  },
  transformer: {
    type: "transformer",
    title: "Transformer",
    description: "Reshapes data with JSONata",
    color: "#8b5cf6",
    icon: "M4 7h12l-3-3m3 13H4l3 3M20 7v10",
    agent: false,
    hasTarget: true,
    hasSource: true,
    defaultConfig: () => ({ expression: "$" }),
  },
  output: {
    type: "output",
    title: "Output",
    description: "Collects the run's result",
    color: "#64748b",
    icon: "M4 4v16M9 12h11m0 0-4-4m4 4-4 4",
    agent: false,
    hasTarget: true,
    hasSource: false,
    defaultConfig: () => ({}),
  },
};

export const PALETTE_ORDER: NodeType[] = [
  "input",
  "researcher",
  "coder",
  "reviewer",
  "coordinator",
  "transformer",
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
  defaultConfig: () => ({}),
};

export function nodeTypeInfo(type: string): NodeTypeInfo {
  return (NODE_CATALOG as Record<string, NodeTypeInfo | undefined>)[type] ?? UNKNOWN;
}

export function isKnownType(type: string): type is NodeType {
  return Object.prototype.hasOwnProperty.call(NODE_CATALOG, type);
}
