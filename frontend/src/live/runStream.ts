/**
 * A gapless, duplicate-free stream of one run's events over its websocket.
 *
 * - Connects to `/ws/runs/<id>/?after=<last applied seq>`; the server replays the
 *   persisted events after that seq, sends `replayed`, then streams live.
 * - Applies events strictly in seq order; anything ≤ the last applied seq is ignored.
 * - On a gap (an event beyond last+1, or a `ping`/`replayed` whose seq is beyond the
 *   last applied one) it pages `GET runs/<id>/events/?after=<last>` until caught up,
 *   applies, then drains what arrived meanwhile.
 * - On close it reconnects with exponential backoff and jitter (capped), and stops
 *   reconnecting once a terminal run event has been applied, or for good when the
 *   server refused the socket (4401, 4403, 4404: `refused`, with the reason).
 */
import {
  isTerminalEvent,
  parseRunSocketMessage,
  refusalOf,
  runSocketUrl,
  toRunEvent,
  type Refusal,
  type RunEvent,
} from "./protocol";

export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(code?: number, reason?: string): void;
}

export type StreamStatus = "connecting" | "replaying" | "live" | "reconnecting" | "done" | "closed" | "refused";

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface RunStreamOptions {
  runId: string;
  /** The last seq already applied by the caller (0: from the start). */
  after?: number;
  createSocket: (url: string) => SocketLike;
  fetchEvents: (runId: string, after: number, limit: number) => Promise<{ events: RunEvent[]; last_seq: number }>;
  /** Receives events in seq order, each exactly once. */
  onEvents: (events: RunEvent[]) => void;
  onStatus?: (status: StreamStatus) => void;
  onError?: (error: unknown) => void;
  /** Called once, before the status becomes `refused`. */
  onRefused?: (refusal: Refusal) => void;
  socketUrl?: (runId: string, after: number) => string;
  timers?: Timers;
  random?: () => number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  pageLimit?: number;
}

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Exponential backoff with "equal jitter": half fixed, half random, capped. */
export function backoffDelay(
  attempt: number,
  random: () => number = Math.random,
  initialMs = 500,
  maxMs = 10_000,
): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + random() * (base / 2));
}

export class RunEventStream {
  private readonly o: Required<Omit<RunStreamOptions, "onStatus" | "onError" | "onRefused" | "after">> &
    Pick<RunStreamOptions, "onStatus" | "onError" | "onRefused">;
  private socket: SocketLike | null = null;
  private last: number;
  private readonly pending = new Map<number, RunEvent>();
  private repairTarget = 0;
  private repairing = false;
  private attempt = 0;
  private reconnectTimer: unknown = null;
  private repairTimer: unknown = null;
  private disposed = false;
  private terminal = false;
  private statusValue: StreamStatus = "connecting";
  private refusalValue: Refusal | null = null;
  /** How many gap repairs ran (for tests and diagnostics). */
  repairs = 0;
  /** How many sockets were opened. */
  connects = 0;

  constructor(options: RunStreamOptions) {
    this.o = {
      socketUrl: (id, after) => runSocketUrl(id, after),
      timers: defaultTimers,
      random: Math.random,
      initialBackoffMs: 500,
      maxBackoffMs: 10_000,
      pageLimit: 500,
      ...options,
    };
    this.last = options.after ?? 0;
  }

  get lastSeq(): number {
    return this.last;
  }
  get status(): StreamStatus {
    return this.statusValue;
  }
  get done(): boolean {
    return this.terminal;
  }
  /** Why the server refused the socket, once it has. */
  get refusal(): Refusal | null {
    return this.refusalValue;
  }

  start(): this {
    this.connect();
    return this;
  }

  /** Stops for good: closes the socket and cancels timers. */
  close(): void {
    this.stop();
    this.setStatus(this.terminal ? "done" : "closed");
  }

  private stop(): void {
    this.disposed = true;
    this.o.timers.clearTimeout(this.reconnectTimer);
    this.o.timers.clearTimeout(this.repairTimer);
    this.dropSocket();
  }

  private setStatus(s: StreamStatus): void {
    if (this.statusValue === s) return;
    this.statusValue = s;
    this.o.onStatus?.(s);
  }

  private dropSocket(): void {
    const s = this.socket;
    this.socket = null;
    if (!s) return;
    s.onopen = s.onmessage = s.onclose = s.onerror = null;
    try {
      s.close();
    } catch {
      /* already closed */
    }
  }

  private connect(): void {
    if (this.disposed) return;
    this.reconnectTimer = null;
    this.setStatus(this.connects === 0 ? "connecting" : "reconnecting");
    let socket: SocketLike;
    try {
      socket = this.o.createSocket(this.o.socketUrl(this.o.runId, this.last));
    } catch (err) {
      this.o.onError?.(err);
      this.scheduleReconnect();
      return;
    }
    this.connects++;
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket === socket && !this.terminal) this.setStatus("replaying");
    };
    socket.onmessage = (ev) => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      this.handleMessage(ev.data);
    };
    socket.onerror = () => {
      /* onclose follows */
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.disposed) return;
      if (this.terminal) {
        this.setStatus("done");
        return;
      }
      const refusal = refusalOf(ev);
      if (refusal) {
        // Any retry would be refused the same way, and so would the event pages.
        this.stop();
        this.refusalValue = refusal;
        this.o.onRefused?.(refusal);
        this.setStatus("refused");
        return;
      }
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.disposed || this.terminal || this.reconnectTimer !== null) return;
    this.attempt++;
    this.setStatus("reconnecting");
    const delay = backoffDelay(this.attempt, this.o.random, this.o.initialBackoffMs, this.o.maxBackoffMs);
    this.reconnectTimer = this.o.timers.setTimeout(() => this.connect(), delay);
  }

  private handleMessage(raw: unknown): void {
    const msg = parseRunSocketMessage(raw);
    if (!msg) return;
    if (msg.kind === "event") {
      this.receive(toRunEvent(msg));
      return;
    }
    if (msg.kind === "replayed" && !this.terminal) this.setStatus("live");
    // `seq` is the last seq the server sent: anything beyond what we applied was lost.
    if (msg.seq > this.last) this.requestRepair(msg.seq);
  }

  /** Feeds one event from the socket (exposed for tests and for replaying buffers). */
  receive(event: RunEvent): void {
    if (event.seq <= this.last) return;
    if (event.seq === this.last + 1 && !this.repairing) {
      const batch = [event];
      this.last = event.seq;
      this.collectPending(batch);
      this.emit(batch);
      return;
    }
    this.pending.set(event.seq, event);
    if (event.seq > this.last + 1) this.requestRepair(event.seq - 1);
  }

  private collectPending(batch: RunEvent[]): void {
    for (const seq of [...this.pending.keys()]) if (seq <= this.last) this.pending.delete(seq);
    let next = this.pending.get(this.last + 1);
    while (next) {
      this.pending.delete(next.seq);
      batch.push(next);
      this.last = next.seq;
      next = this.pending.get(this.last + 1);
    }
  }

  private drain(): void {
    const batch: RunEvent[] = [];
    this.collectPending(batch);
    if (batch.length) this.emit(batch);
    if (this.pending.size > 0) {
      const lowest = Math.min(...this.pending.keys());
      this.requestRepair(lowest - 1);
    }
  }

  private emit(batch: RunEvent[]): void {
    if (batch.length === 0) return;
    this.o.onEvents(batch);
    if (!this.terminal && batch.some(isTerminalEvent)) {
      this.terminal = true;
      this.o.timers.clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
      this.setStatus("done");
    }
  }

  private requestRepair(upTo: number): void {
    this.repairTarget = Math.max(this.repairTarget, upTo);
    if (this.repairing || this.disposed) return;
    this.repairing = true;
    this.repairs++;
    void this.runRepair(0);
  }

  private async runRepair(failures: number): Promise<void> {
    const startedAt = this.last;
    try {
      while (!this.disposed && this.last < this.repairTarget) {
        const page = await this.o.fetchEvents(this.o.runId, this.last, this.o.pageLimit);
        if (this.disposed) return;
        const batch: RunEvent[] = [];
        const events = [...(page.events ?? [])].sort((a, b) => a.seq - b.seq);
        for (const e of events) {
          if (e.seq <= this.last) continue;
          batch.push(e);
          this.last = e.seq;
        }
        this.collectPending(batch);
        this.emit(batch);
        // Nothing newer on the server: the target was a seq it has not got (yet).
        if (events.length === 0 || (page.last_seq ?? this.last) <= this.last) break;
      }
      this.repairing = false;
      this.repairTarget = Math.min(this.repairTarget, this.last);
      if (this.disposed) return;
      if (this.last === startedAt && this.pending.size > 0) {
        // The server had nothing newer than what we hold: try again a little later
        // rather than spinning.
        const delay = backoffDelay(failures + 1, this.o.random, this.o.initialBackoffMs, this.o.maxBackoffMs);
        this.repairTimer = this.o.timers.setTimeout(() => this.drain(), delay);
        return;
      }
      this.drain();
    } catch (err) {
      if (this.disposed) return;
      this.o.onError?.(err);
      const delay = backoffDelay(failures + 1, this.o.random, this.o.initialBackoffMs, this.o.maxBackoffMs);
      this.repairTimer = this.o.timers.setTimeout(() => void this.runRepair(failures + 1), delay);
    }
  }
}
