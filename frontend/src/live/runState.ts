/**
 * The run view's state as a pure reduction of the run's event log. A reload replays
 * the log from seq 0 and reaches exactly the same state.
 *
 * `applyEvents` takes a batch (one animation frame's worth) and copies each touched
 * object once per batch, so 200 nodes streaming tokens cost one shallow copy of the
 * node map per frame, and untouched nodes keep their identity (their components do
 * not re-render).
 */
import type { NodeState, RunState } from "../api/types";
import type { ChildRunState, ErrorInfo, LogLevel, RunEvent, Usage } from "./protocol";

/** What an approval node asks, and once decided, the decision (`node.waiting`, `node.decided`). */
export interface ApprovalLive {
  message: string;
  approvers: string | string[];
  deadlineAt: string | null;
  decision: "approve" | "reject" | null;
  by: string | null;
  comment: string;
  timedOut: boolean;
}

/**
 * One child run of a `workflow` node (`step`: its iteration, from 1) or a `map` node (its item's index,
 * from 0), as its `node.child` events report it.
 */
export interface ChildRunLive {
  runId: string;
  step: number;
  state: ChildRunState;
  error: ErrorInfo | null;
}

/** A `map` node's progress (`node.progress`): children ended of `total`, and of those, `failed`. */
export interface MapProgress {
  done: number;
  total: number;
  failed: number;
}

const TERMINAL_CHILD_STATES: ReadonlySet<ChildRunState> = new Set(["succeeded", "failed", "cancelled"]);

export interface NodeLive {
  state: NodeState;
  attempt: number;
  /** Streamed text of the current attempt. */
  text: string;
  /** The attempt `text` belongs to. */
  textAttempt: number;
  worker: string | null;
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  usage: Usage | null;
  costUsd: number | null;
  error: ErrorInfo | null;
  outputPreview: unknown;
  retryDelayMs: number | null;
  skipReason: string | null;
  approval: ApprovalLive | null;
  /** A `workflow` or `map` node's child runs in step order; null for other nodes (and before it waits). */
  children: ChildRunLive[] | null;
  progress: MapProgress | null;
  /** An agent's tool calls so far in this run, and the name of the latest. */
  toolCalls: number;
  lastTool: string | null;
  /** Seq of the last event that touched this node. */
  seq: number;
}

export interface EdgeLive {
  count: number;
  bytes: number;
  preview: unknown;
  seq: number;
  ts: string;
}

export interface LogEntry {
  seq: number;
  ts: string;
  nodeId: string | null;
  level: LogLevel;
  message: string;
  /** Lines the UI derived from state events (retries, failures), not `node.log`. */
  system?: boolean;
}

export interface TimelineBar {
  nodeId: string;
  attempt: number;
  worker: string;
  start: number;
  end: number | null;
  state: NodeState;
}

export type RunViewRunState = RunState | "unknown";

export interface RunViewState {
  lastSeq: number;
  /** The seq of the latest `sideeffect.*` event: the side-effects panel reloads on it. */
  sideEffectSeq: number;
  runState: RunViewRunState;
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  output: unknown;
  error: ErrorInfo | null;
  cancelReason: string | null;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  nodes: Record<string, NodeLive>;
  edges: Record<string, EdgeLive>;
  logs: LogEntry[];
  bars: TimelineBar[];
  counts: Record<NodeState, number>;
}

export const EMPTY_COUNTS: Readonly<Record<NodeState, number>> = Object.freeze({
  pending: 0,
  queued: 0,
  running: 0,
  retrying: 0,
  waiting: 0,
  succeeded: 0,
  failed: 0,
  skipped: 0,
  cancelled: 0,
});

export function newNodeLive(): NodeLive {
  return {
    state: "pending",
    attempt: 0,
    text: "",
    textAttempt: 0,
    worker: null,
    queuedAt: null,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    usage: null,
    costUsd: null,
    error: null,
    outputPreview: undefined,
    retryDelayMs: null,
    skipReason: null,
    approval: null,
    children: null,
    progress: null,
    toolCalls: 0,
    lastTool: null,
    seq: 0,
  };
}

/** The state before any event: every node of the pinned document pending. */
export function initialRunViewState(nodeIds: readonly string[] = []): RunViewState {
  const nodes: Record<string, NodeLive> = {};
  for (const id of nodeIds) nodes[id] = newNodeLive();
  return {
    lastSeq: 0,
    sideEffectSeq: 0,
    runState: "unknown",
    queuedAt: null,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    output: undefined,
    error: null,
    cancelReason: null,
    promptTokens: 0,
    completionTokens: 0,
    costUsd: 0,
    nodes,
    edges: {},
    logs: [],
    bars: [],
    counts: { ...EMPTY_COUNTS, pending: Object.keys(nodes).length },
  };
}

export const TERMINAL_NODE_STATES: ReadonlySet<NodeState> = new Set(["succeeded", "failed", "skipped", "cancelled"]);

export function isRunFinished(s: RunViewRunState): boolean {
  return s === "succeeded" || s === "failed" || s === "cancelled";
}

function time(ts: string): number {
  const t = Date.parse(ts);
  return Number.isFinite(t) ? t : 0;
}

/** Applies events in order; events at or below `lastSeq` are ignored (idempotent). */
export function applyEvents(state: RunViewState, events: readonly RunEvent[]): RunViewState {
  let fresh = false;
  for (const e of events) if (e.seq > state.lastSeq) fresh = true;
  if (!fresh) return state;

  const d: RunViewState = { ...state, nodes: { ...state.nodes }, counts: { ...state.counts } };
  const touchedNodes = new Set<string>();
  // Nodes whose child list this batch already copied: a map's thousand children cost one copy a frame.
  const childrenCopied = new Set<string>();
  let edgesCopied = false;
  let barsCopied = false;
  const newLogs: LogEntry[] = [];

  const node = (id: string): NodeLive => {
    let n = d.nodes[id];
    if (!n) {
      n = newNodeLive();
      d.nodes[id] = n;
      d.counts.pending++;
      touchedNodes.add(id);
      return n;
    }
    if (!touchedNodes.has(id)) {
      n = { ...n };
      d.nodes[id] = n;
      touchedNodes.add(id);
    }
    return n;
  };
  const setState = (n: NodeLive, s: NodeState) => {
    if (n.state === s) return;
    d.counts[n.state] = Math.max(0, d.counts[n.state] - 1);
    d.counts[s]++;
    n.state = s;
  };
  const bars = (): TimelineBar[] => {
    if (!barsCopied) {
      d.bars = d.bars.slice();
      barsCopied = true;
    }
    return d.bars;
  };
  const closeBar = (nodeId: string, ts: string, s: NodeState) => {
    const list = bars();
    for (let i = list.length - 1; i >= 0; i--) {
      const b = list[i]!;
      if (b.nodeId === nodeId && b.end === null) {
        list[i] = { ...b, end: Math.max(b.start, time(ts)), state: s };
        return;
      }
    }
  };
  const children = (nodeId: string, n: NodeLive): ChildRunLive[] => {
    if (!childrenCopied.has(nodeId)) {
      n.children = n.children ? n.children.slice() : [];
      childrenCopied.add(nodeId);
    }
    return n.children!;
  };
  const log = (e: RunEvent, level: LogLevel, message: string, system = true) =>
    newLogs.push({ seq: e.seq, ts: e.ts, nodeId: e.node_id ?? null, level, message, system });

  for (const e of events) {
    if (e.seq <= d.lastSeq) continue;
    d.lastSeq = e.seq;
    const nid = e.node_id ?? null;
    switch (e.type) {
      case "run.queued":
        if (d.runState === "unknown") d.runState = "queued";
        d.queuedAt = e.ts;
        break;
      case "run.started":
        if (!isRunFinished(d.runState)) d.runState = "running";
        d.startedAt = e.ts;
        break;
      case "run.succeeded":
      case "run.failed":
      case "run.cancelled": {
        d.runState = e.type === "run.succeeded" ? "succeeded" : e.type === "run.failed" ? "failed" : "cancelled";
        d.finishedAt = e.ts;
        const data = e.data;
        if (typeof data.duration_ms === "number") d.durationMs = data.duration_ms;
        if (typeof data.prompt_tokens === "number") d.promptTokens = data.prompt_tokens;
        if (typeof data.completion_tokens === "number") d.completionTokens = data.completion_tokens;
        if (typeof data.cost_usd === "number") d.costUsd = data.cost_usd;
        if (e.type === "run.succeeded") d.output = e.data.output;
        if (e.type === "run.failed") {
          d.error = e.data.error ?? { code: "failed", message: "The run failed." };
          log(e, "error", `Run failed: ${d.error.message}`);
        }
        if (e.type === "run.cancelled") {
          d.cancelReason = e.data.reason ?? null;
          for (const id of e.data.cancelled_nodes ?? []) {
            const n = node(id);
            if (!TERMINAL_NODE_STATES.has(n.state) || n.state === "cancelled") {
              setState(n, "cancelled");
              n.finishedAt = e.ts;
              n.seq = e.seq;
            }
          }
          log(e, "warning", `Run cancelled${d.cancelReason ? `: ${d.cancelReason}` : ""}`);
        }
        // Bars still open when the run ends end with it.
        if (d.bars.some((b) => b.end === null)) {
          const list = bars();
          for (let i = 0; i < list.length; i++) {
            const b = list[i]!;
            if (b.end === null) {
              const ns = d.nodes[b.nodeId]?.state ?? "cancelled";
              list[i] = { ...b, end: Math.max(b.start, time(e.ts)), state: ns };
            }
          }
        }
        break;
      }
      case "node.queued": {
        if (!nid) break;
        const n = node(nid);
        setState(n, "queued");
        if (typeof e.data.attempt === "number") n.attempt = e.data.attempt;
        n.queuedAt = e.ts;
        n.seq = e.seq;
        break;
      }
      case "node.started": {
        if (!nid) break;
        const n = node(nid);
        const attempt = e.data.attempt ?? Math.max(n.attempt, n.textAttempt + 1);
        if (attempt !== n.textAttempt) {
          n.text = "";
          n.textAttempt = attempt;
        }
        n.attempt = attempt;
        setState(n, "running");
        n.worker = e.data.worker ?? n.worker;
        n.startedAt = e.ts;
        n.finishedAt = null;
        n.error = null;
        n.retryDelayMs = null;
        n.seq = e.seq;
        bars().push({
          nodeId: nid,
          attempt,
          worker: n.worker ?? "unknown",
          start: time(e.ts),
          end: null,
          state: "running",
        });
        break;
      }
      case "node.token": {
        if (!nid) break;
        const n = node(nid);
        const attempt = e.data.attempt;
        if (typeof attempt === "number" && attempt !== n.textAttempt) {
          if (attempt < n.textAttempt) break; // a late token of an earlier attempt
          n.textAttempt = attempt;
          n.attempt = Math.max(n.attempt, attempt);
          n.text = "";
        }
        n.text += e.data.delta ?? "";
        n.seq = e.seq;
        break;
      }
      case "node.log":
        log(e, e.data.level ?? "info", String(e.data.message ?? ""), false);
        break;
      case "node.retrying": {
        if (!nid) break;
        const n = node(nid);
        setState(n, "retrying");
        n.error = e.data.error ?? null;
        n.retryDelayMs = e.data.delay_ms ?? null;
        n.seq = e.seq;
        closeBar(nid, e.ts, "retrying");
        log(
          e,
          "warning",
          `Attempt ${e.data.attempt ?? n.attempt} failed${
            e.data.error ? `: ${e.data.error.message}` : ""
          }; retrying in ${e.data.delay_ms ?? 0} ms`,
        );
        break;
      }
      case "node.succeeded": {
        if (!nid) break;
        const n = node(nid);
        setState(n, "succeeded");
        if (typeof e.data.attempt === "number") n.attempt = e.data.attempt;
        n.finishedAt = e.ts;
        n.durationMs = e.data.duration_ms ?? null;
        n.usage = e.data.usage ?? null;
        n.costUsd = e.data.cost_usd ?? null;
        n.outputPreview = e.data.output_preview;
        n.error = null;
        n.seq = e.seq;
        if (!isRunFinished(d.runState)) {
          d.promptTokens += n.usage?.prompt_tokens ?? 0;
          d.completionTokens += n.usage?.completion_tokens ?? 0;
          d.costUsd += n.costUsd ?? 0;
        }
        closeBar(nid, e.ts, "succeeded");
        break;
      }
      case "node.failed": {
        if (!nid) break;
        const n = node(nid);
        setState(n, "failed");
        n.finishedAt = e.ts;
        n.error = e.data.error ?? { code: "failed", message: "The node failed." };
        n.seq = e.seq;
        closeBar(nid, e.ts, "failed");
        log(e, "error", `Failed: ${n.error.message}`);
        break;
      }
      case "node.skipped": {
        if (!nid) break;
        const n = node(nid);
        setState(n, "skipped");
        n.skipReason = e.data.reason ?? null;
        n.finishedAt = e.ts;
        n.seq = e.seq;
        break;
      }
      case "node.waiting": {
        if (!nid) break;
        const n = node(nid);
        setState(n, "waiting");
        if (typeof e.data.attempt === "number") n.attempt = e.data.attempt;
        n.startedAt = e.ts;
        n.seq = e.seq;
        if (e.data.kind === "children") {
          // A new wait starts its own children (a retried node's earlier ones are not its).
          n.children = [];
          childrenCopied.add(nid);
          n.progress = null;
          log(e, "info", "Waiting for child runs");
          break;
        }
        n.approval = {
          message: e.data.message ?? "",
          approvers: e.data.approvers ?? "editors",
          deadlineAt: e.data.deadline_at ?? null,
          decision: null,
          by: null,
          comment: "",
          timedOut: false,
        };
        log(e, "info", `Waiting for approval: ${n.approval.message}`);
        break;
      }
      case "node.decided": {
        if (!nid) break;
        const n = node(nid);
        const decision = e.data.decision ?? null;
        n.approval = {
          ...(n.approval ?? { message: "", approvers: "editors", deadlineAt: null }),
          decision,
          by: e.data.by ?? null,
          comment: e.data.comment ?? "",
          timedOut: e.data.timed_out ?? false,
        };
        n.seq = e.seq;
        log(e, decision === "approve" ? "info" : "warning", decisionText(n.approval));
        break;
      }
      case "node.child": {
        if (!nid) break;
        const step = e.data.iteration ?? e.data.index;
        if (typeof step !== "number" || typeof e.data.child_run_id !== "string") break;
        const n = node(nid);
        upsertChild(children(nid, n), {
          runId: e.data.child_run_id,
          step,
          state: e.data.state,
          error: e.data.error ?? null,
        });
        n.seq = e.seq;
        if (e.data.state === "failed" || e.data.state === "cancelled") {
          const what = e.data.iteration !== undefined ? `Iteration ${step}` : `Item ${step}`;
          log(e, "warning", `${what} ${e.data.state}${e.data.error ? `: ${e.data.error.message}` : ""}`);
        }
        break;
      }
      case "node.progress": {
        if (!nid) break;
        const n = node(nid);
        n.progress = { done: e.data.done, total: e.data.total, failed: e.data.failed };
        n.seq = e.seq;
        break;
      }
      case "node.tool_call": {
        if (nid) {
          const n = node(nid);
          n.toolCalls++;
          n.lastTool = e.data.name;
          n.seq = e.seq;
        }
        log(e, "info", `Tool call ${e.data.name}(${e.data.arguments ?? ""})`, false);
        break;
      }
      case "node.tool_result": {
        const what = e.data.error ? `${e.data.error.code}: ${e.data.error.message}` : (e.data.preview ?? "");
        log(e, e.data.status === "error" ? "warning" : "info", `Tool result ${e.data.name}: ${what}`, false);
        break;
      }
      case "edge.handoff": {
        const id = e.data.edge_id;
        if (!id) break;
        if (!edgesCopied) {
          d.edges = { ...d.edges };
          edgesCopied = true;
        }
        const prev = d.edges[id];
        d.edges[id] = {
          count: (prev?.count ?? 0) + 1,
          bytes: e.data.bytes ?? 0,
          preview: e.data.preview,
          seq: e.seq,
          ts: e.ts,
        };
        break;
      }
      case "sideeffect.compensated":
      case "sideeffect.compensation_failed":
        d.sideEffectSeq = e.seq;
        break;
      default:
        break;
    }
  }
  if (newLogs.length) d.logs = state.logs.concat(newLogs);
  return d;
}

/**
 * Puts a child into a list kept in step order (a binary search: a map has up to 10,000). A later report of
 * the same step replaces it, except that an ended child never goes back to running (a report arriving late).
 */
function upsertChild(list: ChildRunLive[], child: ChildRunLive): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.step < child.step) lo = mid + 1;
    else hi = mid;
  }
  const prev = list[lo];
  if (prev?.step !== child.step) {
    list.splice(lo, 0, child);
    return;
  }
  const late =
    prev.runId === child.runId && TERMINAL_CHILD_STATES.has(prev.state) && !TERMINAL_CHILD_STATES.has(child.state);
  if (!late) list[lo] = child;
}

/** The history line of a decision: "Approved by ann: ship it", "Rejected (timed out)". */
export function decisionText(a: ApprovalLive): string {
  const verb = a.decision === "approve" ? "Approved" : "Rejected";
  const who = a.timedOut ? " (timed out)" : a.by ? ` by ${a.by}` : "";
  return `${verb}${who}${a.comment ? `: ${a.comment}` : ""}`;
}

/** Convenience: the state after a whole log. */
export function reduceLog(nodeIds: readonly string[], events: readonly RunEvent[]): RunViewState {
  const sorted = [...events].sort((a, b) => a.seq - b.seq);
  return applyEvents(initialRunViewState(nodeIds), sorted);
}

export function runningCounts(s: RunViewState): { queued: number; running: number; retrying: number } {
  return { queued: s.counts.queued, running: s.counts.running, retrying: s.counts.retrying };
}
