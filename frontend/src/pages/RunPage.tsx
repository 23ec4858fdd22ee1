import {
  applyEdgeChanges,
  applyNodeChanges,
  ReactFlow,
  ReactFlowProvider,
  type EdgeChange,
  type EdgeTypes,
  type NodeChange,
  type NodeTypes,
} from "@xyflow/react";
import { CanvasChrome } from "../canvas/CanvasChrome";
import { useCallback, useEffect, useMemo, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api } from "../api/endpoints";
import type { Diff, ResumeNodeStatus, ResumePreview, RunDetail, VersionDetail } from "../api/types";
import { EDGE_TYPE, UNKNOWN_NODE_TYPE, documentToFlow, type FlowEdge, type FlowNode } from "../doc/convert";
import { NODE_TYPES } from "../doc/engine";
import { DiffView } from "../ui/DiffView";
import { attachRunStream, createRunViewStore, type RunViewStore, type RunViewStoreApi } from "../live/runStore";
import { isRunFinished } from "../live/runState";
import { RunStoreContext, SelectEdgeContext, useRunView } from "../run/context";
import { LogsPanel } from "../run/LogsPanel";
import { Elapsed, HandoffInspector, NodeDetails } from "../run/panels";
import { RunEdge } from "../run/RunEdge";
import { RunNode } from "../run/RunNode";
import { SideEffectsPanel } from "../run/SideEffectsPanel";
import { LodContext, edgesForLod, simpleEdges, useLodFromStore } from "../canvas/lod";
import { SHARED_FLOW_PROPS } from "../canvas/canvasOptions";
import { Timeline } from "../run/Timeline";
import { Dialog } from "../ui/Dialog";
import { FormError, FormFooter } from "../ui/forms";
import { formatCost, formatTime, formatTokens, preview } from "../ui/format";
import { ErrorState, Spinner } from "../ui/states";
import { StateBadge } from "../ui/StateBadge";
import { toast } from "../ui/toasts";
import { useFetch } from "../ui/useFetch";
import { takeEarly } from "../ui/preload";

const RUN_TABS = ["logs", "timeline", "side-effects"] as const;
type RunTab = (typeof RUN_TABS)[number];

const nodeTypes: NodeTypes = Object.fromEntries([...NODE_TYPES, UNKNOWN_NODE_TYPE].map((t) => [t, RunNode]));
const edgeTypes: EdgeTypes = { [EDGE_TYPE]: RunEdge };

export default function RunPage() {
  const { id = "" } = useParams();
  const [attempt, setAttempt] = useState(0);
  const loaded = useFetch<{ run: RunDetail; version: VersionDetail }>(`${id}#${attempt}`, async (signal) => {
    const run = (attempt === 0 ? await takeEarly<RunDetail>(`run:${id}`) : null) ?? (await api.getRun(id, signal));
    const version = await api.version(run.workflow, run.version);
    return { run, version };
  });

  if (loaded.status === "loading") return <Spinner label="Loading run…" />;
  if (loaded.status === "error") return <ErrorState error={loaded.error} onRetry={() => setAttempt((n) => n + 1)} />;
  return (
    <ReactFlowProvider>
      <RunView key={`${loaded.data.run.id}#${attempt}`} initialRun={loaded.data.run} version={loaded.data.version} />
    </ReactFlowProvider>
  );
}

function RunView({ initialRun, version }: { initialRun: RunDetail; version: VersionDetail }) {
  const flow = useMemo(() => documentToFlow(version.document), [version]);
  const [store] = useState<RunViewStoreApi>(() => createRunViewStore(flow.nodes.map((n) => n.id)));
  const [detail, setDetail] = useState<RunDetail>(initialRun);
  // Selection and tab live in the URL, so a reload comes back to the same view.
  const [params, setParams] = useSearchParams();
  const selection: { kind: "node" | "edge"; id: string } | null = params.get("node")
    ? { kind: "node", id: params.get("node")! }
    : params.get("edge")
      ? { kind: "edge", id: params.get("edge")! }
      : null;
  const tab = RUN_TABS.find((t) => t === params.get("tab")) ?? "logs";
  const setView = useCallback(
    (patch: { select?: { kind: "node" | "edge"; id: string } | null; tab?: RunTab }) =>
      setParams(
        (p) => {
          const n = new URLSearchParams(p);
          if (patch.select !== undefined) {
            n.delete("node");
            n.delete("edge");
            if (patch.select) n.set(patch.select.kind, patch.select.id);
          }
          if (patch.tab) {
            if (patch.tab === "logs") n.delete("tab");
            else n.set("tab", patch.tab);
          }
          return n;
        },
        { replace: true },
      ),
    [setParams],
  );
  const setSelection = useCallback(
    (select: { kind: "node" | "edge"; id: string } | null) => setView({ select }),
    [setView],
  );
  const setTab = (t: RunTab) => setView({ tab: t });
  const selectEdge = useCallback((edgeId: string) => setSelection({ kind: "edge", id: edgeId }), [setSelection]);

  // The view is a pure reduction of the event log: replay from seq 0, then stream.
  useEffect(() => {
    const { detach } = attachRunStream(store, initialRun.id);
    return detach;
  }, [store, initialRun.id]);

  const refresh = useCallback(() => {
    api
      .getRun(initialRun.id)
      .then(setDetail)
      .catch(() => undefined);
  }, [initialRun.id]);

  // Local node/edge state so React Flow can record measurements and selection (the
  // minimap and visible-only rendering need them); the live state lives in the run store.
  const [nodes, setNodes] = useState<FlowNode[]>(() =>
    flow.nodes.map((n) => ({ ...n, draggable: false, connectable: false, selected: n.id === params.get("node") })),
  );
  const [edges, setEdges] = useState<FlowEdge[]>(flow.edges);
  const onNodesChange = useCallback((c: NodeChange<FlowNode>[]) => setNodes((ns) => applyNodeChanges(c, ns)), []);
  const onEdgesChange = useCallback((c: EdgeChange<FlowEdge>[]) => setEdges((es) => applyEdgeChanges(c, es)), []);
  const nodeIds = useMemo(() => flow.nodes.map((n) => n.id), [flow]);
  const labels = useMemo(() => new Map(flow.nodes.map((n) => [n.id, n.data.label || n.id])), [flow]);
  const selEdge = selection?.kind === "edge" ? flow.edges.find((e) => e.id === selection.id) : undefined;
  const lod = useLodFromStore();
  const simple = simpleEdges(lod, "tiny");

  return (
    <RunStoreContext.Provider value={store}>
      <SelectEdgeContext.Provider value={selectEdge}>
        <div className="run-view" data-testid="run-view" data-run-id={initialRun.id}>
          <RunHeader run={detail} workflowName={version.document.name} labels={labels} onRefresh={refresh} />
          <div className="run-body">
            <div className="run-center">
              <div className={`canvas lod-${lod}`} data-testid="run-canvas">
                <LodContext.Provider value={lod}>
                  <ReactFlow<FlowNode, FlowEdge>
                    {...SHARED_FLOW_PROPS}
                    nodes={nodes}
                    edges={edgesForLod(edges, simple)}
                    onNodesChange={onNodesChange}
                    onEdgesChange={onEdgesChange}
                    nodeTypes={nodeTypes}
                    edgeTypes={edgeTypes}
                    nodesDraggable={false}
                    nodesConnectable={false}
                    fitView
                    onNodeClick={(_e, n) => setSelection({ kind: "node", id: n.id })}
                    onEdgeClick={(_e, ed) => setSelection({ kind: "edge", id: ed.id })}
                    onPaneClick={() => setSelection(null)}
                  >
                    <CanvasChrome nodes={nodes} edges={edges} simple={simple} />
                  </ReactFlow>
                </LodContext.Provider>
              </div>
              <div className="run-bottom">
                <div className="tabs" role="tablist" aria-label="Run details">
                  <button
                    type="button"
                    role="tab"
                    aria-selected={tab === "logs"}
                    className={`tab${tab === "logs" ? " is-active" : ""}`}
                    onClick={() => setTab("logs")}
                    data-testid="tab-logs"
                  >
                    Logs
                  </button>
                  <button
                    type="button"
                    role="tab"
                    aria-selected={tab === "timeline"}
                    className={`tab${tab === "timeline" ? " is-active" : ""}`}
                    onClick={() => setTab("timeline")}
                    data-testid="tab-timeline"
                  >
                    Timeline
                  </button>
                  <button
                    type="button"
                    role="tab"
                    aria-selected={tab === "side-effects"}
                    className={`tab${tab === "side-effects" ? " is-active" : ""}`}
                    onClick={() => setTab("side-effects")}
                    data-testid="tab-side-effects"
                  >
                    Side effects
                  </button>
                </div>
                <div role="tabpanel" className="tab-panel">
                  {tab === "logs" ? (
                    <LogsPanel nodeIds={nodeIds} focusNode={selection?.kind === "node" ? selection.id : null} />
                  ) : tab === "timeline" ? (
                    <TimelineTab onSelect={(nid) => setSelection({ kind: "node", id: nid })} />
                  ) : (
                    <SideEffectsPanel runId={initialRun.id} workspace={initialRun.workspace} />
                  )}
                </div>
              </div>
            </div>
            <aside className="side-panel" aria-label="Details" data-testid="run-side-panel">
              {selection?.kind === "node" ? (
                <NodeDetails
                  key={selection.id}
                  nodeId={selection.id}
                  label={labels.get(selection.id) ?? selection.id}
                  detail={detail}
                  refresh={refresh}
                />
              ) : selEdge ? (
                <HandoffInspector edgeId={selEdge.id} source={selEdge.source} target={selEdge.target} />
              ) : (
                <RunInfo run={detail} />
              )}
            </aside>
          </div>
        </div>
      </SelectEdgeContext.Provider>
    </RunStoreContext.Provider>
  );
}

function TimelineTab({ onSelect }: { onSelect: (id: string) => void }) {
  const runState = useRunView((s) => s.runState);
  return <Timeline onSelect={onSelect} running={!isRunFinished(runState)} />;
}

const selectSummary = (s: RunViewStore) => s.runState;

export function RunHeader({
  run,
  workflowName,
  labels,
  onRefresh,
}: {
  run: RunDetail;
  workflowName: string;
  labels: Map<string, string>;
  onRefresh: () => void;
}) {
  const navigate = useNavigate();
  const liveState = useRunView(selectSummary);
  const state = liveState === "unknown" ? run.state : liveState;
  const counts = useRunView((s) => s.counts);
  const stream = useRunView((s) => s.stream);
  const streamRefusal = useRunView((s) => s.streamRefusal);
  const startedAt = useRunView((s) => s.startedAt) ?? run.started_at;
  const finishedAt = useRunView((s) => s.finishedAt) ?? run.finished_at;
  const promptTokens = useRunView((s) => s.promptTokens);
  const completionTokens = useRunView((s) => s.completionTokens);
  const cost = useRunView((s) => s.costUsd);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const done = counts.succeeded + counts.failed + counts.skipped + counts.cancelled;
  const finished = isRunFinished(state);
  // A cancel is a request: the workers stop what is in flight, then the run's own events end it. The
  // button says so until the run's final state takes it away (a toast would outlive or predate that).
  const [cancel, setCancel] = useState<"idle" | "sending" | "requested">("idle");
  const [resuming, setResuming] = useState(false);

  useEffect(() => {
    if (finished) onRefresh();
  }, [finished, onRefresh]);

  const requestCancel = async () => {
    setCancel("sending");
    try {
      await api.cancelRun(run.id);
      setCancel("requested");
    } catch (err) {
      setCancel("idle");
      toast(err instanceof Error ? err.message : String(err), "error");
    }
  };

  return (
    <header className="run-header" data-testid="run-header">
      <div className="run-title">
        <Link to={`/workflows/${run.workflow}`} className="muted small">
          {workflowName || run.workflow_name}
        </Link>
        <h1>
          Run <span className="mono small">{run.id.slice(0, 8)}</span>
        </h1>
        <StateBadge state={state} testId="run-state" />
        <span className={`stream-status stream-${stream}`} data-testid="stream-status" title="Live connection">
          {stream}
        </span>
        {streamRefusal && (
          <span className="muted small" role="alert" data-testid="stream-refusal">
            {streamRefusal}
          </span>
        )}
      </div>
      <dl className="run-summary" data-testid="run-summary">
        <div>
          <dt>Duration</dt>
          <dd data-testid="run-duration">
            <Elapsed since={startedAt} until={finishedAt} />
          </dd>
        </div>
        <div>
          <dt>Nodes done</dt>
          <dd data-testid="run-nodes-done">
            {done}/{total}
          </dd>
        </div>
        <div>
          <dt>Queued · running · retrying</dt>
          <dd data-testid="run-active-counts">
            <span className="count-queued">{counts.queued}</span> ·{" "}
            <span className="count-running">{counts.running}</span> ·{" "}
            <span className="count-retrying">{counts.retrying}</span>
          </dd>
        </div>
        <div>
          <dt>Tokens</dt>
          <dd data-testid="run-tokens">{formatTokens(promptTokens + completionTokens)}</dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd data-testid="run-cost">{formatCost(cost)}</dd>
        </div>
      </dl>
      <div className="toolbar-group">
        {!finished && (
          <button
            type="button"
            className="button button-danger"
            onClick={() => void requestCancel()}
            disabled={cancel !== "idle"}
            data-testid="cancel-run"
          >
            {cancel === "idle" ? "Cancel" : "Cancelling…"}
          </button>
        )}
        {(state === "failed" || state === "cancelled") && (
          <button
            type="button"
            className="button button-primary"
            onClick={() => setResuming(true)}
            data-testid="resume-run"
          >
            Resume
          </button>
        )}
        <Link className="button" to={`/runs?workflow=${run.workflow}`}>
          All runs
        </Link>
      </div>
      {resuming && (
        <ResumeDialog
          run={run}
          labels={labels}
          onClose={() => setResuming(false)}
          onResumed={(id) => navigate(`/runs/${id}`)}
        />
      )}
    </header>
  );
}

const RESUME_STATUS_TEXT: Record<ResumeNodeStatus, string> = {
  keep: "keeps its output",
  changed: "changed: runs again",
  run: "runs again",
};

/**
 * A resume makes a new run from the workflow's CURRENT version: nodes whose config and input are
 * unchanged keep their outputs. `GET runs/<id>/resume/` says, per node, what will happen; when the
 * workflow changed since this run, the version diff is shown too.
 */
function ResumeDialog({
  run,
  labels,
  onClose,
  onResumed,
}: {
  run: RunDetail;
  labels: Map<string, string>;
  onClose: () => void;
  onResumed: (id: string) => void;
}) {
  const plan = useFetch<{ preview: ResumePreview | null; diff: Diff | null }>(run.id, async (signal) => {
    const preview = await api.resumePreview(run.id, signal).catch((err: unknown) => {
      if ((err as Error)?.name === "AbortError") throw err;
      return null;
    });
    const current = preview?.version ?? (await api.getWorkflow(run.workflow, signal)).version;
    const diff = current !== run.version ? await api.diff(run.workflow, current, run.version).catch(() => null) : null;
    return { preview, diff };
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const resume = async () => {
    setBusy(true);
    try {
      const r = await api.resumeRun(run.id);
      onResumed(r.id);
    } catch (err) {
      setBusy(false);
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const preview = plan.data?.preview ?? null;
  const current = preview?.version;
  const counts = { keep: 0, changed: 0, run: 0 };
  for (const n of preview?.nodes ?? []) counts[n.status]++;
  return (
    <Dialog title="Resume this run" onClose={onClose} wide testId="resume-dialog">
      <p>
        Resuming starts a new run from the workflow’s current version. Nodes whose configuration and input are unchanged
        keep their outputs; the rest run again.
      </p>
      {plan.status === "loading" && <Spinner label="Checking for changes…" />}
      {plan.status === "ready" && current !== undefined && current === run.version && (
        <p className="muted">The workflow has not changed since this run (v{run.version}).</p>
      )}
      {plan.status === "ready" && current !== undefined && current !== run.version && (
        <p data-testid="resume-version-changed">
          The workflow changed since this run: v{run.version} → v{current}. Changed nodes run again.
        </p>
      )}
      {preview && (
        <>
          <p className="small" data-testid="resume-summary">
            {counts.keep} keep their output · {counts.changed} changed · {counts.run} run again
          </p>
          <ul className="resume-plan small" data-testid="resume-plan">
            {preview.nodes.map((n) => (
              <li
                key={n.node_id}
                className={`resume-${n.status}`}
                data-testid={`resume-node-${n.node_id}`}
                data-status={n.status}
              >
                <span className="mono">{labels.get(n.node_id) ?? n.node_id}</span> — {RESUME_STATUS_TEXT[n.status]}
              </li>
            ))}
          </ul>
        </>
      )}
      {plan.data?.diff && <DiffView diff={plan.data.diff} />}
      <FormError error={error} />
      <FormFooter
        onCancel={onClose}
        submitLabel="Resume"
        submitDisabled={busy}
        submitTestId="resume-confirm"
        onSubmit={() => void resume()}
      />
    </Dialog>
  );
}

function RunInfo({ run }: { run: RunDetail }) {
  const error = useRunView((s) => s.error) ?? run.error;
  const output = useRunView((s) => s.output);
  const cancelReason = useRunView((s) => s.cancelReason);
  return (
    <section className="panel-section" data-testid="run-info">
      <h2 className="panel-title">Run</h2>
      <p className="muted small">
        Select a node for its input, output and timings, or an edge for the value that crossed it.
      </p>
      <dl className="kv">
        <dt>Version</dt>
        <dd>v{run.version}</dd>
        <dt>Trigger</dt>
        <dd>
          {run.trigger}
          {run.triggered_by ? ` by ${run.triggered_by}` : ""}
        </dd>
        <dt>Created</dt>
        <dd>{formatTime(run.created_at)}</dd>
        {run.parent_run && (
          <>
            <dt>Child of</dt>
            <dd>
              <Link to={`/runs/${run.parent_run}`} className="mono small" data-testid="run-parent">
                {run.parent_run.slice(0, 8)}
              </Link>{" "}
              <span className="muted small">(its node {run.parent_node})</span>
            </dd>
          </>
        )}
        {run.resumed_from && (
          <>
            <dt>Resumed from</dt>
            <dd>
              <Link to={`/runs/${run.resumed_from}`} className="mono small" data-testid="run-resumed-from">
                {run.resumed_from.slice(0, 8)}
              </Link>
            </dd>
          </>
        )}
      </dl>
      <details className="value-block" open>
        <summary>Inputs</summary>
        <pre className="preview-value">{preview(run.inputs)}</pre>
      </details>
      {error && (
        <div className="form-error" data-testid="run-error">
          <strong>{error.code}</strong>: {error.message}
        </div>
      )}
      {cancelReason && <p className="muted">Cancelled: {cancelReason}</p>}
      {(output ?? run.output) != null && (
        <details className="value-block" open data-testid="run-output">
          <summary>Output</summary>
          <pre className="preview-value">{preview(output ?? run.output, 20_000)}</pre>
        </details>
      )}
    </section>
  );
}
