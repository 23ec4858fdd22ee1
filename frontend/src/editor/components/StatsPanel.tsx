import { ListTable } from "../../ui/ListTable";
import { useState } from "react";
import { api, type WorkflowStats } from "../../api/endpoints";
import { Dialog } from "../../ui/Dialog";
import { formatCost, formatDuration, formatTokens } from "../../ui/format";
import { ErrorState, Spinner } from "../../ui/states";
import { useFetch } from "../../ui/useFetch";

type Day = WorkflowStats["per_day"][number];

const WINDOWS = [7, 30, 90] as const;
const CHART = { width: 300, height: 80, gap: 1 };

/** Runs per day as bars: the succeeded part of each bar drawn over the whole, failures in red. */
export function RunsPerDayChart({ days }: { days: Day[] }) {
  const most = Math.max(1, ...days.map((d) => d.runs));
  const slot = CHART.width / Math.max(1, days.length);
  const bar = Math.max(1, slot - CHART.gap);
  const height = (n: number) => (n / most) * CHART.height;
  return (
    <svg
      viewBox={`0 0 ${CHART.width} ${CHART.height}`}
      width="100%"
      height={CHART.height}
      role="img"
      aria-label={`Runs per day, at most ${most}`}
      data-testid="runs-per-day"
    >
      {days.map((d, i) => (
        <g key={d.day} data-testid="day-bar" data-runs={d.runs}>
          <title>{`${d.day}: ${d.runs} runs, ${d.succeeded} succeeded, ${d.failed} failed`}</title>
          <rect x={i * slot} y={CHART.height - height(d.runs)} width={bar} height={height(d.runs)} fill="#9aa5b1" />
          <rect
            x={i * slot}
            y={CHART.height - height(d.succeeded)}
            width={bar}
            height={height(d.succeeded)}
            fill="#2f9e44"
          />
          <rect x={i * slot} y={CHART.height - height(d.failed)} width={bar} height={height(d.failed)} fill="#e03131" />
        </g>
      ))}
    </svg>
  );
}

function percent(rate: number | null): string {
  return rate == null ? "—" : `${Math.round(rate * 1000) / 10}%`;
}

function seconds(s: number | null | undefined): string {
  return formatDuration(s == null ? null : s * 1000);
}

function Figures({ stats }: { stats: WorkflowStats }) {
  const rows: [string, string][] = [
    ["Runs", String(stats.runs.total)],
    ["Success rate", percent(stats.success_rate)],
    ["Duration p50", seconds(stats.duration_p50_s)],
    ["Duration p95", seconds(stats.duration_p95_s)],
    ["Tokens", formatTokens(stats.prompt_tokens + stats.completion_tokens)],
    ["Cost", formatCost(stats.cost_usd)],
  ];
  return (
    <dl className="stats-figures" data-testid="stats-figures">
      {rows.map(([label, value]) => (
        <div key={label}>
          <dt className="muted small">{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A workflow's runs over its last days: figures, a chart of runs per day and its slowest nodes. */
export function StatsPanel({ workflowId, onClose }: { workflowId: string; onClose: () => void }) {
  const [days, setDays] = useState<number>(30);
  const state = useFetch<WorkflowStats>(`${workflowId}:${days}`, (signal) =>
    api.workflowStats(workflowId, days, signal),
  );
  return (
    <Dialog title="Statistics" onClose={onClose} testId="stats-panel">
      <div className="toolbar-group" role="group" aria-label="Window">
        {WINDOWS.map((n) => (
          <button
            key={n}
            type="button"
            className={n === days ? "button button-primary" : "button"}
            aria-pressed={n === days}
            onClick={() => setDays(n)}
          >
            {n} days
          </button>
        ))}
      </div>
      {state.status === "loading" && <Spinner />}
      {state.status === "error" && <ErrorState error={state.error} onRetry={state.retry} />}
      {state.status === "ready" && (
        <>
          <Figures stats={state.data} />
          <RunsPerDayChart days={state.data.per_day} />
          <h3 className="panel-title">Slowest nodes</h3>
          {state.data.slowest_nodes.length === 0 ? (
            <p className="muted small">No successful node in this window.</p>
          ) : (
            <ListTable columns={["Node", "Type", "Runs", "Mean", "Max"]} testId="slowest-nodes">
              {state.data.slowest_nodes.map((n) => (
                <tr key={n.node_id}>
                  <td>{n.node_id}</td>
                  <td>{n.node_type}</td>
                  <td>{n.runs}</td>
                  <td>{seconds(n.mean_s)}</td>
                  <td>{seconds(n.max_s)}</td>
                </tr>
              ))}
            </ListTable>
          )}
        </>
      )}
    </Dialog>
  );
}
