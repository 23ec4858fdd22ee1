/** Shapes of docs/api.md. */
import type { Problem, WorkflowDocument } from "../doc/types";

export type Role = "owner" | "editor" | "viewer";

export interface WorkspaceRef {
  id: string;
  name: string;
  role: Role;
}

export interface Me {
  id: number;
  username: string;
  email: string;
  workspaces: WorkspaceRef[];
}

export interface Page<T> {
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface WorkflowSummary {
  id: string;
  workspace: string;
  name: string;
  description: string;
  tags: string[];
  version: number;
  node_count?: number;
  created_at: string;
  updated_at: string;
  created_by: string | null;
  updated_by: string | null;
}

export interface Workflow extends WorkflowSummary {
  document: WorkflowDocument;
  problems: Problem[];
}

export interface VersionSummary {
  number: number;
  author: string | null;
  created_at: string;
  message: string;
  node_count: number;
}

export interface VersionDetail extends VersionSummary {
  document: WorkflowDocument;
}

export interface Diff {
  from: number;
  to: number;
  nodes: { added: string[]; removed: string[]; changed: { id: string; fields: string[] }[] };
  edges: { added: string[]; removed: string[]; changed: { id: string; fields: string[] }[] };
  settings_changed: boolean;
  inputs_changed: boolean;
  name_changed: boolean;
}

export type VariableType = "string" | "number" | "boolean" | "model" | "prompt" | "enum";

export interface TemplateVariable {
  name: string;
  type: VariableType;
  default?: unknown;
  description?: string;
  options?: string[] | null;
  required?: boolean;
}

export interface Template {
  id: string;
  workspace: string | null;
  name: string;
  description: string;
  category: string;
  built_in: boolean;
  variables: TemplateVariable[];
  document: WorkflowDocument;
}

export interface ModelInfo {
  id: string;
  provider: string;
  label: string;
  simulated: boolean;
  available: boolean;
  input_cost_per_token: number;
  output_cost_per_token: number;
  max_tokens: number | null;
}

export type RunState = "queued" | "running" | "succeeded" | "failed" | "cancelled";
export type NodeState =
  | "pending"
  | "queued"
  | "running"
  | "retrying"
  | "succeeded"
  | "failed"
  | "skipped"
  | "cancelled";

export interface ApiErrorBody {
  code: string;
  message: string;
  [key: string]: unknown;
}

export interface Run {
  id: string;
  workspace?: string;
  workflow: string;
  workflow_name: string;
  version: number;
  state: RunState;
  inputs: Record<string, unknown>;
  output: unknown;
  error: { code: string; message: string } | null;
  trigger: string;
  triggered_by: string | null;
  resumed_from: string | null;
  max_concurrency?: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  node_counts: Partial<Record<NodeState, number>>;
  last_seq: number;
}

/** An output above the inline limit (64 KiB), stored as an object: download it by id. */
export interface OutputArtifact {
  id: string;
  size: number;
  compressed_size?: number;
  sha256?: string;
}

export interface NodeRun {
  node_id: string;
  node_type?: string;
  state: NodeState;
  attempt: number;
  input: unknown;
  /** `null` when the output is above 64 KiB: then `output_artifact` names it. */
  output: unknown;
  output_artifact: OutputArtifact | null;
  error: { code: string; message: string } | null;
  worker: string | null;
  /** docs/api.md shows `usage`; the server sends `prompt_tokens`/`completion_tokens` (both are read). */
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  prompt_tokens?: number;
  completion_tokens?: number;
  config_hash?: string;
  input_hash?: string;
  cost_usd: number | null;
  queued_at: string | null;
  started_at: string | null;
  finished_at: string | null;
}

export interface RunDetail extends Run {
  nodes: NodeRun[];
}

/** `GET runs/<id>/resume/`: what a resume would do, against the workflow's current version. */
export type ResumeNodeStatus = "keep" | "changed" | "run";
export interface ResumePreview {
  version: number;
  nodes: { node_id: string; status: ResumeNodeStatus }[];
}

export interface Estimate {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
  nodes: unknown[];
}

export const TERMINAL_RUN_STATES: readonly RunState[] = ["succeeded", "failed", "cancelled"];
export const RUN_STATES: readonly RunState[] = ["queued", "running", "succeeded", "failed", "cancelled"];
export const NODE_STATES: readonly NodeState[] = [
  "pending",
  "queued",
  "running",
  "retrying",
  "succeeded",
  "failed",
  "skipped",
  "cancelled",
];
