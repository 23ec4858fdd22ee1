/**
 * "Send test request" for an `http` node: `POST workflows/<id>/http-preview/` renders the node's
 * templates over a sample input and sends the request once through the outbound guard; the answer
 * (status, headers with secrets hidden, the start of the body) or the refusal is shown below.
 */
import { useState } from "react";
import { ApiError } from "../../api/client";
import { api, type HttpPreviewResult } from "../../api/endpoints";
import type { NodeConfig } from "../../doc/types";
import { useLastRun } from "../lastRun";
import { JsonField } from "./fields";

type Outcome =
  | { kind: "idle" }
  | { kind: "sending" }
  | { kind: "answer"; result: HttpPreviewResult }
  | { kind: "error"; code: string; message: string };

// One object, so the sample field does not take a fresh `{}` each render for a change.
const NO_INPUT = {};

export function HttpTestRequest({ cfg, nodeId }: { cfg: NodeConfig; nodeId?: string | undefined }) {
  const workflowId = useLastRun((s) => s.workflowId);
  // Until edited, the sample is what the node received in the workflow's last run.
  const lastInput = useLastRun((s) => (nodeId ? s.run?.nodes?.find((n) => n.node_id === nodeId)?.input : undefined));
  const [edited, setEdited] = useState<{ value: unknown } | null>(null);
  const sample = edited ? edited.value : (lastInput ?? NO_INPUT);
  const [outcome, setOutcome] = useState<Outcome>({ kind: "idle" });

  async function send() {
    if (!workflowId) return;
    setOutcome({ kind: "sending" });
    try {
      const result = await api.httpPreview(workflowId, cfg as Record<string, unknown>, sample ?? NO_INPUT);
      setOutcome({ kind: "answer", result });
    } catch (err) {
      setOutcome(
        err instanceof ApiError
          ? { kind: "error", code: err.code, message: err.message }
          : { kind: "error", code: "network", message: String(err) },
      );
    }
  }

  return (
    <div className="http-test-request" data-testid="http-test-request">
      <JsonField
        label={
          lastInput != null && !edited ? "Sample input (from the last run)" : "Sample input (what the templates read)"
        }
        value={sample}
        onChange={(value) => setEdited({ value })}
        rows={2}
        testId="http-test-input"
      />
      <button
        type="button"
        className="button"
        onClick={() => void send()}
        disabled={!workflowId || outcome.kind === "sending"}
        data-testid="http-test-send"
      >
        {outcome.kind === "sending" ? "Sending…" : "Send test request"}
      </button>
      <TestOutcome outcome={outcome} />
    </div>
  );
}

function TestOutcome({ outcome }: { outcome: Outcome }) {
  if (outcome.kind === "error")
    return (
      <div className="field-error" role="alert" data-testid="http-test-error">
        <code>{outcome.code}</code> {outcome.message}
      </div>
    );
  if (outcome.kind !== "answer") return null;
  const { result } = outcome;
  return (
    <div className="http-test-result" aria-live="polite" data-testid="http-test-result">
      <div className="small">
        <strong data-testid="http-test-status">{result.status}</strong>{" "}
        <span className="mono muted">
          {result.request.method} {result.request.url}
        </span>
      </div>
      <details>
        <summary className="small">Headers ({Object.keys(result.headers).length})</summary>
        <pre className="preview-value">
          {Object.entries(result.headers)
            .map(([name, value]) => `${name}: ${value}`)
            .join("\n")}
        </pre>
      </details>
      <pre className="preview-value" data-testid="http-test-body">
        {result.body}
      </pre>
      {result.truncated && (
        <div className="muted small">Showing the start of {result.bytes.toLocaleString()} bytes.</div>
      )}
    </div>
  );
}
