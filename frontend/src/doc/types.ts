/**
 * The stored workflow document (SPEC §2, `schema_version: 1`). Field names are the
 * document's own (snake_case); nothing here knows about React Flow.
 */

export const NODE_TYPES = [
  "researcher",
  "coder",
  "reviewer",
  "coordinator",
  "input",
  "transformer",
  "output",
] as const;

export type NodeType = (typeof NODE_TYPES)[number];
export type AgentType = "researcher" | "coder" | "reviewer" | "coordinator";

export type ErrorPolicy = "stop" | "continue" | "fallback";
export type ResponseFormat = "text" | "json";
export type Backoff = "exponential" | "linear" | "fixed";

export interface RetryPolicy {
  max_attempts: number;
  backoff: Backoff;
  initial_delay_ms: number;
  max_delay_ms: number;
  jitter: boolean;
}

export interface NodeConfig {
  model?: string | null;
  temperature?: number | null;
  system_prompt?: string | null;
  prompt?: string | null;
  max_tokens?: number | null;
  timeout_s?: number | null;
  stream?: boolean | null;
  response_format?: ResponseFormat | null;
  retry?: RetryPolicy | null;
  on_error?: ErrorPolicy | null;
  fallback_output?: unknown;
  /** transformer: a JSONata expression over the node's inputs. */
  expression?: string | null;
  [key: string]: unknown;
}

export interface DocNodeData {
  label: string;
  config: NodeConfig;
  [key: string]: unknown;
}

export interface DocNode {
  id: string;
  type: NodeType | string;
  position: { x: number; y: number };
  data: DocNodeData;
  [key: string]: unknown;
}

/** An edge's own fields (everything but id/source/target). */
export interface DocEdgeFields {
  source_handle?: string | null;
  /** The input key in the target's input object (default: the source node id). */
  target_handle?: string | null;
  transform?: string | null;
  condition?: string | null;
  label?: string | null;
  [key: string]: unknown;
}

export interface DocEdge extends DocEdgeFields {
  id: string;
  source: string;
  target: string;
}

export interface Budget {
  max_total_tokens: number | null;
  max_cost_usd: number | null;
  max_duration_s: number | null;
}

export interface WorkflowSettings {
  default_model: string;
  max_concurrency: number;
  error_policy: ErrorPolicy;
  budget: Budget;
  [key: string]: unknown;
}

export const INPUT_TYPES = ["string", "number", "integer", "boolean", "object", "array"] as const;
export type InputType = (typeof INPUT_TYPES)[number];

export interface InputDecl {
  type: InputType | string;
  required?: boolean;
  description?: string;
  default?: unknown;
  [key: string]: unknown;
}

/** Everything in a document but its nodes and edges. */
export interface DocumentMeta {
  schema_version: 1;
  name: string;
  description: string;
  settings: WorkflowSettings;
  inputs: Record<string, InputDecl>;
  [key: string]: unknown;
}

export interface WorkflowDocument extends DocumentMeta {
  nodes: DocNode[];
  edges: DocEdge[];
}

export type Severity = "error" | "warning";

/** A validation problem (SPEC §2, docs/api.md). */
export interface Problem {
  code: string;
  message: string;
  severity: Severity;
  node_id?: string | null;
  edge_id?: string | null;
  field?: string | null;
  path?: string[] | null;
}

export const DEFAULT_RETRY: RetryPolicy = {
  max_attempts: 3,
  backoff: "exponential",
  initial_delay_ms: 1000,
  max_delay_ms: 60000,
  jitter: true,
};

export const DEFAULT_SETTINGS: WorkflowSettings = {
  default_model: "mock/echo",
  max_concurrency: 8,
  error_policy: "stop",
  budget: { max_total_tokens: null, max_cost_usd: null, max_duration_s: 3600 },
};

export function emptyDocument(name = "Untitled workflow"): WorkflowDocument {
  return {
    schema_version: 1,
    name,
    description: "",
    settings: structuredClone(DEFAULT_SETTINGS),
    inputs: {},
    nodes: [],
    edges: [],
  };
}
