/**
 * Shapes of docs/api.md, taken from the server's OpenAPI schema (`generated/api.ts`, made by
 * `make generate` from `/api/schema/`). What is written by hand below is what the schema cannot say:
 * JSON fields that the server stores as free-form JSON (the schema has `unknown` for them), and the
 * responses of views that declare no serializer. Each says why.
 */
import type { components } from "../generated/api";
import type { ErrorInfo } from "../live/protocol";
import type { Problem, WorkflowDocument } from "../doc/types";

/**
 * Response shapes. A serializer's output has every one of its fields; the schema marks the writable
 * ones optional only because the same component also describes what a client may send.
 */
type Schemas = { [K in keyof components["schemas"]]: Required<components["schemas"][K]> };

/** JSON fields of a response, typed here because the server keeps them as free-form JSON. */
type WithJson<T, Fields> = Omit<T, keyof Fields> & Fields;

export type Role = Schemas["RoleEnum"];
export type RunState = Schemas["RunStateEnum"];
export type NodeState = Schemas["NodeStateEnum"];
export type VariableType = Schemas["TypeEnum"];
export type ExpressionMode = Schemas["ModeEnum"];
/**
 * A model of `GET models/?workspace=`. `source` (where its key comes from) and `reason` (why it is
 * unavailable) are newer than the schema may be: optional here, and `workspace/models.ts` reads every
 * field defensively.
 */
export type ModelInfo = Schemas["Model"] & { source?: string | null; reason?: string | null };
/** As the template declares it (a JSON list item): the optional fields may be absent. */
export type TemplateVariable = components["schemas"]["Variable"];
/** An output above the inline limit, stored as an object: download it by id. */
export type OutputArtifact = Schemas["ArtifactRef"];
export type WorkflowSummary = Schemas["WorkflowList"];
export type VersionSummary = Schemas["VersionList"];
export type CredentialProvider = Schemas["ProviderEnum"];
/** What owners and editors see of a credential (never its secret). */
export type Credential = WithJson<Schemas["Credential"], { config: Record<string, string> }>;
/** Viewers get names only: every field past these may be absent. */
export type CredentialView = Pick<Credential, "id" | "workspace" | "name" | "provider"> &
  Partial<Omit<Credential, "id" | "workspace" | "name" | "provider">>;
/** A workflow whose current version names a credential (`usage/`, and a refused delete). */
export type CredentialUsage = Schemas["_Usage"];

export type WorkspaceRef = Schemas["MeWorkspace"];
export type Me = Schemas["Me"];

export type Workflow = WithJson<Schemas["Workflow"], { document: WorkflowDocument; problems: Problem[] }>;
export type VersionDetail = WithJson<Schemas["Version"], { document: WorkflowDocument; problems: Problem[] }>;
export type Template = WithJson<Schemas["Template"], { document: WorkflowDocument }>;

type RunJson = {
  inputs: Record<string, unknown>;
  error: ErrorInfo | null;
  node_counts: Partial<Record<NodeState, number>>;
};
export type Run = WithJson<Schemas["Run"], RunJson>;
/** An approval waiting for (or decided by) a person: `GET approvals/`, a decision's answer. */
export type Approval = WithJson<Schemas["Approval"], { approvers: string | string[] }>;
export type NodeRun = WithJson<Schemas["NodeRun"], { error: ErrorInfo | null }>;
export type RunDetail = WithJson<Schemas["RunDetail"], RunJson & { nodes: NodeRun[] }>;

/** The schema names the resume plan's nodes only as objects. */
export type ResumeNodeStatus = "keep" | "changed" | "run";
export type ResumePreview = WithJson<Schemas["ResumePlan"], { nodes: { node_id: string; status: ResumeNodeStatus }[] }>;

/** A cursor page: the generated `Paginated…List` types are this, one per item type. */
export type Page<T> = WithJson<Schemas["PaginatedRunList"], { results: T[] }>;

/** Every 4xx/5xx body (docs/api.md, "Conventions"); error views have no serializer. */
export interface ApiErrorBody {
  code: string;
  message: string;
  [key: string]: unknown;
}

/** The version diff view declares no serializer. */
export interface Diff {
  from: number;
  to: number;
  nodes: { added: string[]; removed: string[]; changed: { id: string; fields: string[] }[] };
  edges: { added: string[]; removed: string[]; changed: { id: string; fields: string[] }[] };
  settings_changed: boolean;
  inputs_changed: boolean;
  name_changed: boolean;
}

/** The estimate view's response is a plain dict in the schema. */
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
  "waiting",
  "succeeded",
  "failed",
  "skipped",
  "cancelled",
];
