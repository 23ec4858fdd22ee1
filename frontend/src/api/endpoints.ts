/** One typed function per endpoint of docs/api.md used by the UI. */
import type { RunEvent } from "../live/protocol";
import type { Problem, WorkflowDocument } from "../doc/types";
import { API_BASE, fetchAll, itemsOf, request } from "./client";
import type {
  Diff,
  Estimate,
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

export const api = {
  csrf: () => request<{ csrf_token: string }>("auth/csrf/"),
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
  getWorkflow: (id: string, signal?: AbortSignal) =>
    request<Workflow>(`workflows/${id}/`, signal ? { signal } : {}),
  putWorkflow: (
    id: string,
    body: { version: number; document: WorkflowDocument; tags?: string[]; message?: string },
  ) => request<Workflow>(`workflows/${id}/`, { method: "PUT", body }),
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
  estimate: (id: string, inputs: Record<string, unknown>, version?: number, signal?: AbortSignal) =>
    request<Estimate>(`workflows/${id}/estimate/`, {
      method: "POST",
      body: version === undefined ? { inputs } : { inputs, version },
      ...(signal ? { signal } : {}),
    }),

  listRuns: (q: {
    workflow?: string;
    state?: RunState | "";
    workspace?: string;
    page_size?: number;
    created_after?: string;
    created_before?: string;
  }) => request<Page<Run>>("runs/", { query: q }),
  getRun: (id: string, signal?: AbortSignal) =>
    request<RunDetail>(`runs/${id}/`, signal ? { signal } : {}),
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

  models: async () => itemsOf(await request<Page<ModelInfo> | ModelInfo[]>("models/")),
  evaluate: (
    expression: string,
    input: unknown,
    mode: "value" | "condition" | "template",
    signal?: AbortSignal,
  ) =>
    request<{ result: unknown }>("expressions/evaluate/", {
      method: "POST",
      body: { expression, input, mode },
      ...(signal ? { signal } : {}),
    }),
};
