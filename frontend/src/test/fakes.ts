import type { RunEvent } from "../live/protocol";
import type { SocketLike } from "../live/runStream";

/** A WebSocket stand-in driven by the test ("server" side methods). */
export class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  static reset(): void {
    FakeSocket.all = [];
  }
  static last(): FakeSocket {
    const s = FakeSocket.all.at(-1);
    if (!s) throw new Error("no socket");
    return s;
  }
  open(): void {
    this.onopen?.({});
  }
  send(msg: unknown): void {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  event(e: RunEvent): void {
    this.send({ kind: "event", ...e });
  }
  drop(): void {
    this.onerror?.({});
    this.onclose?.({ code: 1006 });
  }
  close(): void {
    this.closed = true;
  }
}

let ts = Date.parse("2026-01-01T00:00:00.000Z");
export function ev<E extends RunEvent>(
  seq: number,
  type: E["type"],
  data: E["data"],
  node_id?: string,
  at?: number,
): RunEvent {
  const t = at ?? (ts += 10);
  return { seq, ts: new Date(t).toISOString(), type, data, ...(node_id ? { node_id } : {}) } as RunEvent;
}

export function tokens(fromSeq: number, count: number, node: string): RunEvent[] {
  return Array.from({ length: count }, (_, i) => ev(fromSeq + i, "node.token", { attempt: 1, delta: `t${i} ` }, node));
}

/** The server's persisted log with `GET runs/<id>/events/?after=&limit=` semantics. */
export class FakeEventLog {
  events: RunEvent[] = [];
  calls: { after: number; limit: number }[] = [];
  failNext = 0;
  add(...e: RunEvent[]): this {
    this.events.push(...e);
    return this;
  }
  fetch = async (_runId: string, after: number, limit: number) => {
    this.calls.push({ after, limit });
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error("network");
    }
    const page = this.events.filter((e) => e.seq > after).slice(0, limit);
    return { events: page, last_seq: this.events.at(-1)?.seq ?? 0 };
  };
}

/** Sequential events 1..n cycling through a few types. */
export function sampleLog(n: number): RunEvent[] {
  const out: RunEvent[] = [ev(1, "run.queued", {}), ev(2, "run.started", {})];
  for (let seq = 3; seq <= n; seq++) out.push(ev(seq, "node.log", { level: "info", message: `line ${seq}` }, "a"));
  return out.slice(0, n);
}
