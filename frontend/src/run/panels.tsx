import { useEffect, useState } from "react";
import { api } from "../api/endpoints";
import type { NodeRun, OutputArtifact, RunDetail } from "../api/types";
import { TERMINAL_NODE_STATES } from "../live/runState";
import { formatBytes, formatCost, formatDuration, formatTime, preview } from "../ui/format";
import { StateBadge } from "../ui/StateBadge";
import { useRunView } from "./context";

function durationBetween(a: string | null | undefined, b: string | null | undefined): number | null {
  if (!a || !b) return null;
  const d = Date.parse(b) - Date.parse(a);
  return Number.isFinite(d) ? d : null;
}

function Value({ label, value, testId }: { label: string; value: unknown; testId: string }) {
  if (value === undefined || value === null) return null;
  return (
    <details className="value-block" open data-testid={testId}>
      <summary>{label}</summary>
      <pre className="preview-value">{preview(value, 20_000)}</pre>
    </details>
  );
}

/** One node of a run: live state from events, input/output/error/timings from `GET runs/<id>/`. */
export function NodeDetails({
  nodeId,
  label,
  detail,
  refresh,
}: {
  nodeId: string;
  label: string;
  detail: RunDetail | null;
  refresh: () => void;
}) {
  const live = useRunView((s) => s.nodes[nodeId]);
  const nr: NodeRun | undefined = detail?.nodes?.find((n) => n.node_id === nodeId);
  // Until the replay has reached this node (seq 0), the REST detail knows better than "pending".
  const liveState = (live && live.seq > 0 ? live.state : undefined) ?? nr?.state ?? live?.state ?? "pending";
  const stale = TERMINAL_NODE_STATES.has(liveState) && nr?.state !== liveState;
  useEffect(() => {
    if (!stale) return;
    const t = setTimeout(refresh, 300);
    return () => clearTimeout(t);
  }, [stale, refresh]);
  const error = live?.error ?? nr?.error;
  const duration = live?.durationMs ?? durationBetween(nr?.started_at, nr?.finished_at);
  const usage = live?.usage ?? nodeRunUsage(nr);
  return (
    <section className="panel-section" data-testid="node-details" aria-label={`Node ${label}`}>
      <h2 className="panel-title">{label}</h2>
      <div className="muted small mono">{nodeId}</div>
      <dl className="kv">
        <dt>State</dt>
        <dd>
          <StateBadge state={liveState} testId="node-details-state" />
        </dd>
        <dt>Attempt</dt>
        <dd>{live?.attempt || nr?.attempt || "—"}</dd>
        <dt>Worker</dt>
        <dd className="mono small">{live?.worker ?? nr?.worker ?? "—"}</dd>
        <dt>Queued</dt>
        <dd>{formatTime(nr?.queued_at ?? live?.queuedAt)}</dd>
        <dt>Started</dt>
        <dd>{formatTime(nr?.started_at ?? live?.startedAt)}</dd>
        <dt>Finished</dt>
        <dd>{formatTime(nr?.finished_at ?? live?.finishedAt)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(duration)}</dd>
        <dt>Tokens</dt>
        <dd>{usage ? `${usage.prompt_tokens} in / ${usage.completion_tokens} out` : "—"}</dd>
        <dt>Cost</dt>
        <dd>{formatCost(live?.costUsd ?? nr?.cost_usd)}</dd>
      </dl>
      {error && (
        <div className="form-error" data-testid="node-details-error">
          <strong>{error.code}</strong>: {error.message}
        </div>
      )}
      {live?.skipReason && <p className="muted">Skipped: {live.skipReason}</p>}
      <Value label="Input" value={nr?.input} testId="node-details-input" />
      {nr?.output_artifact ? (
        <Value label="Output preview" value={live?.outputPreview} testId="node-details-output" />
      ) : (
        <Value label="Output" value={nr?.output ?? live?.outputPreview} testId="node-details-output" />
      )}
      {nr?.output_artifact ? (
        <ArtifactLink runId={detail?.id ?? ""} nodeId={nodeId} artifact={nr.output_artifact} />
      ) : null}
      {live?.text && !nr?.output && <Value label="Streamed text" value={live.text} testId="node-details-text" />}
      <button type="button" className="button button-small" onClick={refresh}>
        Refresh
      </button>
    </section>
  );
}

/** docs/api.md shows `usage`; the server sends the two counts on the node run itself. */
function nodeRunUsage(nr: NodeRun | undefined): { prompt_tokens: number; completion_tokens: number } | null {
  return nr ? { prompt_tokens: nr.prompt_tokens, completion_tokens: nr.completion_tokens } : null;
}

/** An output above the inline limit (`max_inline_output_bytes`) is stored as an artifact: the inline output is null; offer the download. */
function ArtifactLink({ runId, nodeId, artifact }: { runId: string; nodeId: string; artifact: OutputArtifact }) {
  return (
    <div className="value-block" data-testid="node-details-artifact">
      <div className="small">
        <strong>Output</strong> <span className="muted">— too large to show inline ({formatBytes(artifact.size)}</span>
        {artifact.compressed_size != null && (
          <span className="muted">, {formatBytes(artifact.compressed_size)} stored</span>
        )}
        <span className="muted">)</span>
      </div>
      <a
        className="button button-small"
        href={api.artifactUrl(runId, artifact.id)}
        download={`${nodeId}-output.json`}
        data-testid="node-details-artifact-download"
      >
        Download output
      </a>
      {artifact.sha256 && (
        <div className="muted small mono" title="SHA-256 of the output">
          sha256 {artifact.sha256.slice(0, 16)}…
        </div>
      )}
    </div>
  );
}

/** The value that last crossed an edge. */
export function HandoffInspector({ edgeId, source, target }: { edgeId: string; source: string; target: string }) {
  const live = useRunView((s) => s.edges[edgeId]);
  return (
    <section className="panel-section" data-testid="handoff-inspector" aria-label="Handoff">
      <h2 className="panel-title">Handoff</h2>
      <p className="small">
        <span className="mono">{source}</span> → <span className="mono">{target}</span>{" "}
        <span className="muted">({edgeId})</span>
      </p>
      {!live ? (
        <p className="muted">Nothing has crossed this edge yet.</p>
      ) : (
        <>
          <dl className="kv">
            <dt>Size</dt>
            <dd data-testid="handoff-bytes">{formatBytes(live.bytes)}</dd>
            <dt>Handoffs</dt>
            <dd>{live.count}</dd>
            <dt>At</dt>
            <dd>{formatTime(live.ts)}</dd>
          </dl>
          <pre className="preview-value" data-testid="handoff-preview">
            {preview(live.preview, 20_000)}
          </pre>
        </>
      )}
    </section>
  );
}

export function Elapsed({ since, until }: { since: string | null; until: string | null }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!since || until) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [since, until]);
  if (!since) return <>—</>;
  const end = until ? Date.parse(until) : now;
  return <>{formatDuration(Math.max(0, end - Date.parse(since)))}</>;
}
