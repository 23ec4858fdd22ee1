/**
 * A `workflow` or `map` node's child runs on the run canvas: a map's progress ("done / total (failed)"),
 * and the children, each a link that opens it in the run view. `nodrag nowheel`: the list scrolls and its
 * links click without panning or dragging the canvas.
 */
import { memo, useMemo } from "react";
import { Link } from "react-router";
import type { ChildRunLive, MapProgress } from "../live/runState";

/** The most children listed on a node (a workflow node's iterations all fit: at most 100). */
export const CHILD_ROWS = 100;

/** Which children a long list shows first: those that failed, then those still going, then the rest. */
function rank(c: ChildRunLive): number {
  return c.state === "failed" || c.state === "cancelled" ? 0 : c.state === "succeeded" ? 2 : 1;
}

/** At most `CHILD_ROWS` children, the most telling ones, in step order. */
export function shownChildren(runs: readonly ChildRunLive[]): ChildRunLive[] {
  if (runs.length <= CHILD_ROWS) return runs.slice();
  const picked: ChildRunLive[] = [];
  for (let r = 0; r <= 2 && picked.length < CHILD_ROWS; r++) {
    for (const c of runs) {
      if (rank(c) !== r) continue;
      picked.push(c);
      if (picked.length === CHILD_ROWS) break;
    }
  }
  return picked.sort((a, b) => a.step - b.step);
}

/** "12 / 200 (3 failed)". */
export function progressText(p: MapProgress): string {
  return `${p.done} / ${p.total}${p.failed ? ` (${p.failed} failed)` : ""}`;
}

export const ChildRuns = memo(function ChildRuns({
  nodeId,
  isMap,
  runs,
  progress,
}: {
  nodeId: string;
  isMap: boolean;
  runs: readonly ChildRunLive[];
  progress: MapProgress | null;
}) {
  const shown = useMemo(() => shownChildren(runs), [runs]);
  const what = isMap ? "Item" : "Iteration";
  return (
    <div className="child-runs nodrag nowheel" data-testid={`child-runs-${nodeId}`}>
      {isMap && progress && (
        <div className="child-progress" data-testid={`node-progress-${nodeId}`}>
          <div
            className="child-progress-bar"
            role="progressbar"
            aria-label="Items done"
            aria-valuemin={0}
            aria-valuemax={progress.total}
            aria-valuenow={progress.done}
          >
            <span style={{ width: `${progress.total ? (100 * progress.done) / progress.total : 100}%` }} />
          </div>
          <span className="child-progress-text">{progressText(progress)}</span>
        </div>
      )}
      {shown.length > 0 && (
        <ol className="child-run-list">
          {shown.map((c) => (
            <li key={c.step} data-testid={`child-run-${nodeId}-${c.step}`} data-state={c.state}>
              <Link to={`/runs/${c.runId}`} title={c.error ? `${c.error.code}: ${c.error.message}` : c.runId}>
                {what} {c.step}
              </Link>
              <span className={`state-badge state-${c.state}`}>{c.state}</span>
            </li>
          ))}
        </ol>
      )}
      {runs.length > shown.length && (
        <div className="muted small">
          and {runs.length - shown.length} more {isMap ? "items" : "iterations"}
        </div>
      )}
    </div>
  );
});
