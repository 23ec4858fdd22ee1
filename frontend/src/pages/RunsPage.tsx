import { useEffect, useState } from "react";
import { Link } from "react-router";
import { api } from "../api/endpoints";
import { RUN_STATES, type Run, type RunState, type WorkflowSummary } from "../api/types";
import { WorkspaceStream } from "../live/workspaceStream";
import { useSession } from "../session/store";
import { formatCost, formatDuration, formatTokens, relativeTime } from "../ui/format";
import { EmptyState, ListBody } from "../ui/states";
import { StateBadge } from "../ui/StateBadge";
import { ListTable } from "../ui/ListTable";
import { LoadMore } from "../ui/LoadMore";
import { usePagedList } from "../ui/usePagedList";
import { useQueryFilter } from "../ui/useQueryFilter";

export function runDurationMs(run: Pick<Run, "started_at" | "finished_at">, now = Date.now()): number | null {
  if (!run.started_at) return null;
  const start = Date.parse(run.started_at);
  const end = run.finished_at ? Date.parse(run.finished_at) : now;
  return Number.isFinite(start) && Number.isFinite(end) ? Math.max(0, end - start) : null;
}

/** Upserts a pushed run into a list filtered by workflow, state and trigger, newest first. */
export function mergeRun(
  list: Run[],
  run: Run,
  filter: { workflow?: string; state?: string; trigger?: string },
): Run[] {
  const matches =
    (!filter.workflow || run.workflow === filter.workflow) &&
    (!filter.state || run.state === filter.state) &&
    (!filter.trigger || run.trigger === filter.trigger);
  const i = list.findIndex((r) => r.id === run.id);
  if (i >= 0) {
    if (!matches) return list.filter((r) => r.id !== run.id);
    const copy = list.slice();
    copy[i] = { ...list[i]!, ...run };
    return copy;
  }
  if (!matches) return list;
  return [run, ...list].sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
}

const RUN_TRIGGERS = ["manual", "api", "schedule", "webhook", "resume", "workflow"] as const;

const RUN_COLUMNS = ["State", "Workflow", "Trigger", "Started", "Duration", "Nodes", "Tokens", "Cost"];

export function RunsPage() {
  const workspaceId = useSession((s) => s.workspaceId);
  const { filter, setFilter } = useQueryFilter();
  const workflow = filter("workflow");
  const state = filter("state") as RunState | "";
  const trigger = filter("trigger");
  const [workflows, setWorkflows] = useState<WorkflowSummary[]>([]);
  const [live, setLive] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);

  useEffect(() => {
    api
      .listWorkflows({ ...(workspaceId ? { workspace: workspaceId } : {}), page_size: 200 })
      .then((p) => setWorkflows(p.results))
      .catch(() => setWorkflows([]));
  }, [workspaceId]);

  const list = usePagedList<Run>(JSON.stringify([workflow, state, trigger, workspaceId]), () =>
    api.listRuns({
      ...(workflow ? { workflow } : {}),
      ...(state ? { state } : {}),
      ...(trigger ? { trigger } : {}),
      ...(workspaceId ? { workspace: workspaceId } : {}),
      page_size: 50,
    }),
  );
  const { items: runs, setItems } = list;

  useEffect(() => {
    const stream = new WorkspaceStream({
      onRun: (run) => setItems((rows) => mergeRun(rows, run, { workflow, state, trigger })),
      onStatus: setLive,
      onRefused: (r) => setRefusal(r.reason),
    }).start();
    return () => stream.close();
  }, [workflow, state, trigger, setItems]);

  return (
    <div className="page" data-testid="runs-page">
      <div className="page-header">
        <h1>Runs</h1>
        <span className={`live-dot${live ? " live-on" : ""}`} data-testid="runs-live">
          {live ? "Live" : (refusal ?? "Connecting…")}
        </span>
      </div>
      <div className="filters">
        <label className="field field-inline">
          <span>Workflow</span>
          <select
            value={workflow}
            onChange={(e) => setFilter("workflow", e.target.value)}
            data-testid="runs-filter-workflow"
          >
            <option value="">All workflows</option>
            {workflows.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
            {workflow && !workflows.some((w) => w.id === workflow) && <option value={workflow}>{workflow}</option>}
          </select>
        </label>
        <label className="field field-inline">
          <span>State</span>
          <select value={state} onChange={(e) => setFilter("state", e.target.value)} data-testid="runs-filter-state">
            <option value="">Any state</option>
            {RUN_STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label className="field field-inline">
          <span>Trigger</span>
          <select
            value={trigger}
            onChange={(e) => setFilter("trigger", e.target.value)}
            data-testid="runs-filter-trigger"
          >
            <option value="">Any trigger</option>
            {RUN_TRIGGERS.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ListBody
        list={list}
        count={runs.length}
        empty={
          <EmptyState title="No runs">
            {workflow || state || trigger ? "No run matches these filters." : "Run a workflow from its editor."}
          </EmptyState>
        }
      >
        <ListTable columns={RUN_COLUMNS} testId="run-list">
          {runs.map((r) => {
            const counts = r.node_counts ?? {};
            const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
            const done =
              (counts.succeeded ?? 0) + (counts.failed ?? 0) + (counts.skipped ?? 0) + (counts.cancelled ?? 0);
            return (
              <tr key={r.id} data-testid={`run-row-${r.id}`} data-state={r.state}>
                <td>
                  <Link to={`/runs/${r.id}`} aria-label={`Open run ${r.id}`}>
                    <StateBadge state={r.state} />
                  </Link>
                </td>
                <td>
                  <Link to={`/runs/${r.id}`} className="strong">
                    {r.workflow_name}
                  </Link>{" "}
                  <span className="muted small">v{r.version}</span>
                  {r.resumed_from && <span className="muted small"> · resumed</span>}
                  {r.parent_run && (
                    <Link to={`/runs/${r.parent_run}`} className="muted small" data-testid="run-parent">
                      {" "}
                      · child of {r.parent_run.slice(0, 8)}
                    </Link>
                  )}
                </td>
                <td>
                  {r.trigger}
                  {r.triggered_by ? <span className="muted small"> by {r.triggered_by}</span> : null}
                </td>
                <td title={r.created_at}>{relativeTime(r.created_at)}</td>
                <td>{formatDuration(runDurationMs(r))}</td>
                <td>
                  {done}/{total}
                  {(counts.running ?? 0) > 0 && <span className="muted small"> · {counts.running} running</span>}
                  {(counts.waiting ?? 0) > 0 && (
                    <span
                      className="small count-waiting"
                      data-testid={`run-waiting-${r.id}`}
                      title="Nodes waiting for a person's decision or for their child runs; they hold no worker."
                    >
                      {" "}
                      · {counts.waiting} waiting
                    </span>
                  )}
                </td>
                <td>{formatTokens((r.prompt_tokens ?? 0) + (r.completion_tokens ?? 0))}</td>
                <td>{formatCost(r.cost_usd)}</td>
              </tr>
            );
          })}
        </ListTable>
      </ListBody>
      <LoadMore<Run> next={list.next} onPage={list.append} />
    </div>
  );
}
