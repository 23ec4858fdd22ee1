/**
 * The live events protocol (SPEC §4): server → client messages on
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

export const TERMINAL_EVENT_TYPES: ReadonlySet<string> = new Set([
  "run.succeeded",
  "run.failed",
  "run.cancelled",
]);

export type RunSocketMessage =
  | ({ kind: "event" } & RunEvent)
  | { kind: "replayed"; seq: number }
  | { kind: "ping"; seq: number };

export type WorkspaceSocketMessage = { kind: "run"; run: Run } | { kind: "ping" };

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
export function runSocketUrl(runId: string, after: number, loc: Pick<Location, "protocol" | "host"> = location): string {
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${loc.host}/ws/runs/${encodeURIComponent(runId)}/?after=${after}`;
}

export function workspaceSocketUrl(loc: Pick<Location, "protocol" | "host"> = location): string {
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${loc.host}/ws/workspace/`;
}
