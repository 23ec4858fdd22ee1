import { useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api } from "../api/endpoints";
import { RUN_STATES, type Run, type RunState, type WorkflowSummary } from "../api/types";
import { WorkspaceStream } from "../live/workspaceStream";
import { useSession } from "../session/store";
import { formatCost, formatDuration, formatTokens, relativeTime } from "../ui/format";
import { EmptyState, ErrorState, Spinner } from "../ui/states";
import { StateBadge } from "../ui/StateBadge";
import { toast } from "../ui/toasts";
import { useFetch } from "../ui/useFetch";

export function runDurationMs(run: Pick<Run, "started_at" | "finished_at">, now = Date.now()): number | null {
  if (!run.started_at) return null;
  const start = Date.parse(run.started_at);
  const end = run.finished_at ? Date.parse(run.finished_at) : now;
  return Number.isFinite(start) && Number.isFinite(end) ? Math.max(0, end - start) : null;
}

/** Upserts a pushed run into a list filtered by workflow and state, newest first. */
export function mergeRun(list: Run[], run: Run, filter: { workflow?: string; state?: string }): Run[] {
  const matches = (!filter.workflow || run.workflow === filter.workflow) && (!filter.state || run.state === filter.state);
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

export function RunsPage() {
  const workspaceId = useSession((s) => s.workspaceId);
  const [params, setParams] = useSearchParams();
  const workflow = params.get("workflow") ?? "";
  const state = (params.get("state") ?? "") as RunState | "";
  const [workflows, setWorkflows] = useState<WorkflowSummary[]>([]);
  const [live, setLive] = useState(false);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    api
      .listWorkflows({ ...(workspaceId ? { workspace: workspaceId } : {}), page_size: 200 })
      .then((p) => setWorkflows(p.results))
      .catch(() => setWorkflows([]));
  }, [workspaceId]);

  const list = useFetch<{ runs: Run[]; next: string | null }>(JSON.stringify([workflow, state, workspaceId, reload]), async () => {
    const p = await api.listRuns({
      ...(workflow ? { workflow } : {}),
      ...(state ? { state } : {}),
      ...(workspaceId ? { workspace: workspaceId } : {}),
      page_size: 50,
    });
    return { runs: p.results, next: p.next };
  });
  const status = list.status;
  const runs = list.data?.runs ?? [];
  const next = list.data?.next ?? null;
  const setList = list.set;

  useEffect(() => {
    const stream = new WorkspaceStream({
      onRun: (run) => setList((d) => ({ ...d, runs: mergeRun(d.runs, run, { workflow, state }) })),
      onStatus: setLive,
    }).start();
    return () => stream.close();
  }, [workflow, state, setList]);

  const setFilter = (key: string, value: string) => {
    const p = new URLSearchParams(params);
    if (value) p.set(key, value);
    else p.delete(key);
    setParams(p);
  };

  const loadMore = async () => {
    if (!next) return;
    try {
      const page = await api.page<Run>(next);
      list.set((d) => ({ runs: [...d.runs, ...page.results.filter((r) => !d.runs.some((x) => x.id === r.id))], next: page.next }));
    } catch (err) {
      toast(err instanceof Error ? err.message : String(err), "error");
    }
  };

  return (
    <div className="page" data-testid="runs-page">
      <div className="page-header">
        <h1>Runs</h1>
        <span className={`live-dot${live ? " live-on" : ""}`} data-testid="runs-live">
          {live ? "Live" : "Connecting…"}
        </span>
      </div>
      <div className="filters">
        <label className="field field-inline">
          <span>Workflow</span>
          <select value={workflow} onChange={(e) => setFilter("workflow", e.target.value)} data-testid="runs-filter-workflow">
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
      </div>
      {status === "loading" && <Spinner />}
      {status === "error" && <ErrorState error={list.error} onRetry={() => setReload((n) => n + 1)} />}
      {status === "ready" && runs.length === 0 && (
        <EmptyState title="No runs">{workflow || state ? "No run matches these filters." : "Run a workflow from its editor."}</EmptyState>
      )}
      {status === "ready" && runs.length > 0 && (
        <table className="table" data-testid="run-list">
          <thead>
            <tr>
              <th scope="col">State</th>
              <th scope="col">Workflow</th>
              <th scope="col">Trigger</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
              <th scope="col">Nodes</th>
              <th scope="col">Tokens</th>
              <th scope="col">Cost</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => {
              const counts = r.node_counts ?? {};
              const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
              const done = (counts.succeeded ?? 0) + (counts.failed ?? 0) + (counts.skipped ?? 0) + (counts.cancelled ?? 0);
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
                  </td>
                  <td>{formatTokens((r.prompt_tokens ?? 0) + (r.completion_tokens ?? 0))}</td>
                  <td>{formatCost(r.cost_usd)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {next && status === "ready" && (
        <button type="button" className="button load-more" onClick={() => void loadMore()}>
          Load more
        </button>
      )}
    </div>
  );
}
