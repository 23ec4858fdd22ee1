import { useEffect, useMemo, useState } from "react";
import type { TimelineBar } from "../live/runState";
import { formatDuration } from "../ui/format";
import { useRunView } from "./context";

export interface TimelineRow {
  worker: string;
  bars: TimelineBar[];
  /** Lane of each bar: concurrent executions on one worker stack, not overlap. */
  lanes: number[];
  laneCount: number;
}

function assignLanes(bars: readonly TimelineBar[], now: number): { lanes: number[]; laneCount: number } {
  const order = bars.map((_, i) => i).sort((a, b) => bars[a]!.start - bars[b]!.start);
  const laneEnds: number[] = [];
  const lanes = new Array<number>(bars.length).fill(0);
  for (const i of order) {
    const b = bars[i]!;
    let lane = laneEnds.findIndex((end) => end <= b.start);
    if (lane < 0) {
      lane = laneEnds.length;
      laneEnds.push(0);
    }
    laneEnds[lane] = b.end ?? now;
    lanes[i] = lane;
  }
  return { lanes, laneCount: Math.max(1, laneEnds.length) };
}

/** Groups bars per worker host, and gives the time span they cover. */
export function timelineRows(
  bars: readonly TimelineBar[],
  now: number,
): { rows: TimelineRow[]; t0: number; t1: number } {
  const byWorker = new Map<string, TimelineBar[]>();
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const b of bars) {
    const list = byWorker.get(b.worker);
    if (list) list.push(b);
    else byWorker.set(b.worker, [b]);
    t0 = Math.min(t0, b.start);
    t1 = Math.max(t1, b.end ?? now);
  }
  const rows = [...byWorker.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([worker, bs]) => ({ worker, bars: bs, ...assignLanes(bs, now) }));
  if (!Number.isFinite(t0)) return { rows, t0: 0, t1: 1 };
  return { rows, t0, t1: Math.max(t1, t0 + 1) };
}

/** Node executions per worker: rows are hosts, bars run from started to finished. */
export function Timeline({ onSelect, running }: { onSelect: (nodeId: string) => void; running: boolean }) {
  const bars = useRunView((s) => s.bars);
  const [now, setNow] = useState(() => Date.now());
  const open = bars.some((b) => b.end === null);
  useEffect(() => {
    if (!running || !open) return;
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [running, open]);
  const { rows, t0, t1 } = useMemo(() => timelineRows(bars, now), [bars, now]);
  const span = t1 - t0;
  if (rows.length === 0) return <p className="muted small timeline-empty">No node has started yet.</p>;
  return (
    <div className="timeline" data-testid="timeline" role="list" aria-label="Node executions per worker">
      <div className="timeline-scale muted small">
        <span>0</span>
        <span>{formatDuration(span / 2)}</span>
        <span>{formatDuration(span)}</span>
      </div>
      {rows.map((r) => (
        <div className="timeline-row" key={r.worker} role="listitem" data-testid="timeline-row" data-worker={r.worker}>
          <div className="timeline-worker" title={r.worker}>
            {r.worker}
          </div>
          <div className="timeline-track" style={{ height: r.laneCount * 22 + 4 }}>
            {r.bars.map((b, i) => {
              const end = b.end ?? now;
              const left = ((b.start - t0) / span) * 100;
              const width = Math.max(0.4, ((end - b.start) / span) * 100);
              return (
                <button
                  type="button"
                  key={`${b.nodeId}-${b.attempt}-${i}`}
                  className={`timeline-bar state-${b.end === null ? "running" : b.state}`}
                  style={{ left: `${left}%`, width: `${width}%`, top: 2 + (r.lanes[i] ?? 0) * 22 }}
                  title={`${b.nodeId} (attempt ${b.attempt}) · ${b.state} · ${formatDuration(end - b.start)}`}
                  onClick={() => onSelect(b.nodeId)}
                  data-testid="timeline-bar"
                  data-node={b.nodeId}
                >
                  <span>{b.nodeId}</span>
                </button>
              );
            })}
          </div>
        </div>
      ))}
    </div>
  );
}
