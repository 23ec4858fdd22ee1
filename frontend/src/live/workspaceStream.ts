/**
 * `ws /ws/workspace/`: run status changes for the run list, reconnecting with backoff
 * unless the server refused the socket for good (docs/events.md).
 */
import type { Run } from "../api/types";
import { refusalOf, workspaceSocketUrl, type Refusal, type WorkspaceSocketMessage } from "./protocol";
import { backoffDelay, type SocketLike, type Timers } from "./runStream";

export interface WorkspaceStreamOptions {
  onRun: (run: Run) => void;
  onStatus?: (connected: boolean) => void;
  /** Called once when the server refuses the socket; the stream then stops. */
  onRefused?: (refusal: Refusal) => void;
  createSocket?: (url: string) => SocketLike;
  url?: string;
  timers?: Timers;
  random?: () => number;
}

export class WorkspaceStream {
  private socket: SocketLike | null = null;
  private attempt = 0;
  private timer: unknown = null;
  private disposed = false;
  private readonly timers: Timers;

  constructor(private readonly o: WorkspaceStreamOptions) {
    this.timers = o.timers ?? {
      setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
    };
  }

  start(): this {
    this.connect();
    return this;
  }

  close(): void {
    this.disposed = true;
    this.timers.clearTimeout(this.timer);
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onopen = s.onmessage = s.onclose = s.onerror = null;
      s.close();
    }
  }

  private connect(): void {
    if (this.disposed) return;
    this.timer = null;
    let socket: SocketLike;
    try {
      const make = this.o.createSocket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
      socket = make(this.o.url ?? workspaceSocketUrl());
    } catch {
      this.retry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.o.onStatus?.(true);
    };
    socket.onmessage = (ev) => {
      let msg: WorkspaceSocketMessage;
      try {
        msg = JSON.parse(String(ev.data)) as WorkspaceSocketMessage;
      } catch {
        return;
      }
      if (msg && msg.kind === "run" && msg.run && typeof msg.run.id === "string") this.o.onRun(msg.run);
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.o.onStatus?.(false);
      const refusal = refusalOf(ev);
      if (refusal) {
        this.disposed = true;
        this.o.onRefused?.(refusal);
        return;
      }
      this.retry();
    };
    socket.onerror = () => {};
  }

  private retry(): void {
    if (this.disposed || this.timer !== null) return;
    this.attempt++;
    this.timer = this.timers.setTimeout(() => this.connect(), backoffDelay(this.attempt, this.o.random ?? Math.random));
  }
}
