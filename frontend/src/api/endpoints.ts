/** One typed function per endpoint of docs/api.md used by the UI. */
import type { RunEvent } from "../live/protocol";
import type { Problem, WorkflowDocument } from "../doc/types";
import { API_BASE, fetchAll, itemsOf, request } from "./client";
import type { components } from "../generated/api";
import type {
  Approval,
  Credential,
  CredentialProvider,
  CredentialUsage,
  CredentialView,
  Diff,
  Estimate,
  ExpressionMode,
  Me,
  ModelInfo,
  Page,
  ResumePreview,
  Run,
  RunDetail,
  RunState,
  Template,
  VersionDetail,
  VersionSummary,
  Workflow,
  WorkflowSummary,
} from "./types";

export type WorkflowStats = components["schemas"]["WorkflowStats"];
export type HttpPreviewResult = components["schemas"]["HttpPreviewResult"];
export type McpListedTool = components["schemas"]["McpListedTool"];
export type SideEffect = components["schemas"]["SideEffect"];

export const api = {
  csrf: () => request<components["schemas"]["Csrf"]>("auth/csrf/"),
  login: (username: string, password: string) =>
    request<Me>("auth/login/", { method: "POST", body: { username, password } }),
  logout: () => request<void>("auth/logout/", { method: "POST" }),
  me: () => request<Me>("me/"),

  listWorkflows: (q: { workspace?: string; q?: string; tag?: string; page_size?: number }) =>
    request<Page<WorkflowSummary>>("workflows/", { query: q }),
  page: <T>(url: string) => request<Page<T>>(url),
  createWorkflow: (body: {
    workspace?: string;
    name?: string;
    description?: string;
    tags?: string[];
    document?: WorkflowDocument;
  }) => request<Workflow>("workflows/", { method: "POST", body }),
  getWorkflow: (id: string, signal?: AbortSignal) => request<Workflow>(`workflows/${id}/`, signal ? { signal } : {}),
  putWorkflow: (id: string, body: { version: number; document: WorkflowDocument; tags?: string[]; message?: string }) =>
    request<Workflow>(`workflows/${id}/`, { method: "PUT", body }),
  patchWorkflow: (
    id: string,
    body: { version: number; name?: string; description?: string; tags?: string[]; message?: string },
  ) => request<Workflow>(`workflows/${id}/`, { method: "PATCH", body }),
  deleteWorkflow: (id: string) => request<void>(`workflows/${id}/`, { method: "DELETE" }),
  validate: (id: string, document?: WorkflowDocument) =>
    request<{ valid: boolean; problems: Problem[] }>(`workflows/${id}/validate/`, {
      method: "POST",
      body: document ? { document } : {},
    }),
  versions: (id: string) => fetchAll<VersionSummary>(`workflows/${id}/versions/`),
  version: (id: string, n: number) => request<VersionDetail>(`workflows/${id}/versions/${n}/`),
  diff: (id: string, n: number, against?: number) =>
    request<Diff>(`workflows/${id}/versions/${n}/diff/`, { query: { against } }),
  restore: (id: string, n: number, currentVersion: number) =>
    request<Workflow>(`workflows/${id}/versions/${n}/restore/`, {
      method: "POST",
      body: { version: currentVersion },
    }),
  exportWorkflow: (id: string, format: "json" | "yaml") =>
    request<Response>(`workflows/${id}/export/`, { query: { format }, raw: true }),
  importWorkflow: (body: { workspace?: string; content?: string; document?: WorkflowDocument }) =>
    request<Workflow>("workflows/import/", { method: "POST", body }),
  startRun: (id: string, inputs: Record<string, unknown>, version?: number) =>
    request<Run>(`workflows/${id}/runs/`, {
      method: "POST",
      body: version === undefined ? { inputs } : { inputs, version },
    }),
  workflowStats: (id: string, days: number, signal?: AbortSignal) =>
    request<WorkflowStats>(`workflows/${id}/stats/`, { query: { days }, ...(signal ? { signal } : {}) }),
  estimate: (id: string, inputs: Record<string, unknown>, version?: number, signal?: AbortSignal) =>
    request<Estimate>(`workflows/${id}/estimate/`, {
      method: "POST",
      body: version === undefined ? { inputs } : { inputs, version },
      ...(signal ? { signal } : {}),
    }),

  listRuns: (q: {
    workflow?: string;
    state?: RunState | "";
    trigger?: string;
    workspace?: string;
    page_size?: number;
    created_after?: string;
    created_before?: string;
  }) => request<Page<Run>>("runs/", { query: q }),
  getRun: (id: string, signal?: AbortSignal) => request<RunDetail>(`runs/${id}/`, signal ? { signal } : {}),
  cancelRun: (id: string) => request<Run>(`runs/${id}/cancel/`, { method: "POST", body: {} }),
  resumeRun: (id: string) => request<Run>(`runs/${id}/resume/`, { method: "POST", body: {} }),
  /** What resuming would keep / run again, against the workflow's current version. */
  resumePreview: (id: string, signal?: AbortSignal) =>
    request<ResumePreview>(`runs/${id}/resume/`, signal ? { signal } : {}),
  /** Same-origin URL of a large output (a download; the session cookie authenticates it). */
  artifactUrl: (runId: string, artifactId: string) => `${API_BASE}runs/${runId}/artifacts/${artifactId}/`,
  runEvents: (id: string, after: number, limit = 1000, signal?: AbortSignal) =>
    request<{ events: RunEvent[]; last_seq: number }>(`runs/${id}/events/`, {
      query: { after, limit },
      ...(signal ? { signal } : {}),
    }),

  templates: () => fetchAll<Template>("templates/"),
  instantiate: (id: string, body: { workspace?: string; name?: string; variables: Record<string, unknown> }) =>
    request<Workflow>(`templates/${id}/instantiate/`, { method: "POST", body }),

  /** Per workspace: each model with whether it is usable there, where its key comes from, and why not. */
  models: async (workspace?: string | null) =>
    itemsOf(await request<Page<ModelInfo> | ModelInfo[]>("models/", { query: { workspace } })),

  /** Viewers get names only (`CredentialView`); owners and editors the rest, never the secret. */
  credentials: (workspace: string) => fetchAll<CredentialView>("credentials/", { workspace }),
  createCredential: (body: {
    workspace: string;
    name: string;
    provider: CredentialProvider;
    secret: Record<string, string>;
    config: Record<string, string>;
  }) => request<Credential>("credentials/", { method: "POST", body }),
  /** Replaces the secret (write-only: the answer has its new hint, not the secret). */
  rotateCredential: (id: string, secret: Record<string, string>) =>
    request<Credential>(`credentials/${id}/`, { method: "PATCH", body: { secret } }),
  /** 409 `in_use` with `workflows` while a workflow's current version names it. */
  deleteCredential: (id: string) => request<void>(`credentials/${id}/`, { method: "DELETE" }),
  credentialUsage: async (id: string) =>
    itemsOf(await request<Page<CredentialUsage> | CredentialUsage[]>(`credentials/${id}/usage/`)),
  evaluate: (expression: string, input: unknown, mode: ExpressionMode, signal?: AbortSignal) =>
    request<components["schemas"]["EvaluateResult"]>("expressions/evaluate/", {
      method: "POST",
      body: { expression, input, mode },
      ...(signal ? { signal } : {}),
    }),
  /** Sends an http node's request once through the outbound guard (editors). */
  httpPreview: (workflowId: string, config: Record<string, unknown>, input: unknown) =>
    request<HttpPreviewResult>(`workflows/${workflowId}/http-preview/`, { method: "POST", body: { config, input } }),
  /** The tools an MCP server lists, through the outbound guard (editors). */
  mcpTools: (workflowId: string, url: string, credential: string | null) =>
    request<{ tools: McpListedTool[] }>(`workflows/${workflowId}/mcp-tools/`, {
      method: "POST",
      body: { url, credential },
    }),
  listSideEffects: (runId: string) => request<SideEffect[]>(`runs/${runId}/side-effects/`),
  rollbackRun: (runId: string) => request<SideEffect[]>(`runs/${runId}/rollback/`, { method: "POST", body: {} }),
  /** The approvals waiting for the caller's decision, oldest first. */
  approvals: () => request<Approval[]>("approvals/"),
  decide: (runId: string, nodeId: string, decision: "approve" | "reject", comment: string) =>
    request<Approval>(`runs/${runId}/nodes/${encodeURIComponent(nodeId)}/decision/`, {
      method: "POST",
      body: { decision, comment },
    }),
  resolveSideEffect: (runId: string, id: number) =>
    request<SideEffect>(`runs/${runId}/side-effects/${id}/resolve/`, { method: "POST", body: {} }),
};
