/**
 * The live events protocol (docs/events.md): server → client messages on
 * `/ws/runs/<run_id>/?after=<seq>` and `/ws/workspace/`.
 */
import type { Run } from "../api/types";

export interface ErrorInfo {
  code: string;
  message: string;
}
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

/** What a `sideeffect.*` event says of the side effect (docs/api.md, "Side effects and rollback"). */
export interface SideEffectEvent {
  side_effect_id: number;
  method: string;
  host: string;
  path: string;
}

/** One call of an agent's tool loop (a durable step). */
export interface ToolStepEvent {
  attempt?: number;
  step?: number;
  call_id?: string;
  name: string;
}

/** A child run's state as its parent's `node.child` events report it. */
export type ChildRunState = "queued" | "running" | "succeeded" | "failed" | "cancelled";

export interface EventDataMap {
  "run.queued": Record<string, never>;
  "run.started": Record<string, never>;
  "run.succeeded": {
    output?: unknown;
    duration_ms?: number;
    prompt_tokens?: number;
    completion_tokens?: number;
    cost_usd?: number;
  };
  "run.failed": {
    error?: ErrorInfo;
    duration_ms?: number;
    prompt_tokens?: number;
    completion_tokens?: number;
    cost_usd?: number;
  };
  "run.cancelled": {
    reason?: string;
    cancelled_nodes?: string[];
    duration_ms?: number;
    prompt_tokens?: number;
    completion_tokens?: number;
    cost_usd?: number;
  };
  "node.queued": { attempt?: number };
  "node.started": { attempt?: number; worker?: string };
  "node.token": { attempt?: number; delta: string };
  "node.log": { level: LogLevel; message: string };
  "node.retrying": { attempt?: number; delay_ms?: number; error?: ErrorInfo };
  "node.succeeded": {
    attempt?: number;
    usage?: Usage;
    cost_usd?: number;
    duration_ms?: number;
    output_preview?: unknown;
  };
  "node.failed": { attempt?: number; error?: ErrorInfo };
  "node.skipped": { reason?: string };
  "node.waiting": {
    attempt?: number;
    /** What the node waits for: a decision (`approval`, the default) or its child runs (`children`). */
    kind?: "approval" | "children";
    message?: string;
    /** `"editors"` (the workspace's owners and editors) or usernames. */
    approvers?: string | string[];
    deadline_at?: string;
    on_timeout?: string;
    /** `children`: the workflow the child runs run, and the node's bounds. */
    workflow?: string;
    max_iterations?: number;
    max_parallel?: number;
    on_item_error?: string;
  };
  /** A child run of a `workflow` node (its `iteration`, from 1) or `map` node (its item's `index`, from 0) started or ended. */
  "node.child": {
    child_run_id: string;
    iteration?: number;
    index?: number;
    state: ChildRunState;
    /** Why a child that failed did. */
    error?: ErrorInfo;
  };
  /** A `map` node's children: ended, of all its items, and of those ended, failed or cancelled. */
  "node.progress": { done: number; total: number; failed: number };
  "node.decided": { decision?: "approve" | "reject"; by?: string | null; comment?: string; timed_out?: boolean };
  "node.tool_call": ToolStepEvent & { arguments?: string };
  "node.tool_result": ToolStepEvent & {
    status?: "ok" | "error";
    bytes?: number;
    preview?: string;
    error?: ErrorInfo;
  };
  "sideeffect.compensated": SideEffectEvent & { manual?: boolean };
  "sideeffect.compensation_failed": SideEffectEvent & { error?: ErrorInfo };
  "edge.handoff": {
    edge_id: string;
    source: string;
    target: string;
    bytes?: number;
    preview?: unknown;
  };
}

export type EventType = keyof EventDataMap;
export type LogLevel = "debug" | "info" | "warning" | "error";
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warning", "error"];

export type RunEventOf<K extends EventType> = {
  seq: number;
  ts: string;
  type: K;
  node_id?: string | null;
  data: EventDataMap[K];
};

/** A persisted run event (as in `GET runs/<id>/events/`). */
export type RunEvent = { [K in EventType]: RunEventOf<K> }[EventType];

export const TERMINAL_EVENT_TYPES: ReadonlySet<string> = new Set(["run.succeeded", "run.failed", "run.cancelled"]);

export type RunSocketMessage =
  ({ kind: "event" } & RunEvent) | { kind: "replayed"; seq: number } | { kind: "ping"; seq: number };

export type WorkspaceSocketMessage = { kind: "run"; run: Run } | { kind: "ping" };

/**
 * Close codes with which the server refuses a socket for good (docs/events.md): connecting
 * again would be refused again, so a stream stops and says why. 4408 (the client fell
 * behind) is not one: reconnecting with `after` is its cure, like any other close.
 */
export const REFUSALS: Readonly<Record<number, string>> = {
  4400: "The server refused the live connection as malformed.",
  4401: "You are signed out, or your session or token is no longer valid: sign in again to see live updates.",
  4403: "The server refused a live connection from this page's address.",
  4404: "This run is not in your workspaces any more: your access may have been removed.",
};

export interface Refusal {
  code: number;
  reason: string;
}

/** The refusal a socket's close event carries, or null when reconnecting may help. */
export function refusalOf(closeEvent: unknown): Refusal | null {
  const code = (closeEvent as { code?: unknown } | null)?.code;
  if (typeof code !== "number") return null;
  const reason = REFUSALS[code];
  return reason === undefined ? null : { code, reason };
}

export function isTerminalEvent(e: { type: string }): boolean {
  return TERMINAL_EVENT_TYPES.has(e.type);
}

/** Strips the transport `kind` off an event message. */
export function toRunEvent(msg: { kind: "event" } & RunEvent): RunEvent {
  const { kind: _kind, ...event } = msg;
  return event as RunEvent;
}

export function parseRunSocketMessage(raw: unknown): RunSocketMessage | null {
  let v: unknown = raw;
  if (typeof raw === "string") {
    try {
      v = JSON.parse(raw);
    } catch {
      return null;
    }
  }
  if (!v || typeof v !== "object") return null;
  const m = v as Record<string, unknown>;
  if (typeof m.seq !== "number" || !Number.isFinite(m.seq)) return null;
  if (m.kind === "event") {
    if (typeof m.type !== "string") return null;
    if (m.data == null || typeof m.data !== "object") m.data = {};
    return m as unknown as RunSocketMessage;
  }
  if (m.kind === "replayed" || m.kind === "ping") return m as unknown as RunSocketMessage;
  return null;
}

/** `ws(s)://<host>/ws/runs/<id>/?after=<seq>` for the page's own origin. */
export function runSocketUrl(
  runId: string,
  after: number,
  loc: Pick<Location, "protocol" | "host"> = location,
): string {
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${loc.host}/ws/runs/${encodeURIComponent(runId)}/?after=${after}`;
}

export function workspaceSocketUrl(loc: Pick<Location, "protocol" | "host"> = location): string {
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${loc.host}/ws/workspace/`;
}
