/**
 * The stored workflow document (docs/workflow-document.md). Field names are the
 * document's own (snake_case); nothing here knows about React Flow. The values the engine
 * decides (node types, defaults, the schema version, limits) come from `./engine`.
 */
import type engineCatalog from "../generated/engineCatalog.json";

export type NodeType = keyof (typeof engineCatalog)["node_types"];

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
  /** agents: the id of the workspace credential their calls use (else the provider's default). */
  credential?: string | null;
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
  /** `SCHEMA_VERSION` in `./engine`; other versions are refused on import. */
  schema_version: number;
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

/** A validation problem (docs/api.md). */
export interface Problem {
  code: string;
  message: string;
  severity: Severity;
  node_id?: string | null;
  edge_id?: string | null;
  field?: string | null;
  path?: string[] | null;
}
