import { ApiError } from "../../api/client";
import { api } from "../../api/endpoints";
import { preview } from "../../ui/format";
import { useFetch } from "../../ui/useFetch";
import { useLastRun } from "../lastRun";
import { useDebounced } from "./fields";

export type PreviewSource = { kind: "nodeOutput"; nodeId: string } | { kind: "nodeInput"; nodeId: string };

/**
 * Live preview of a JSONata expression through `POST expressions/evaluate/`, against the
 * value the source node produced (or received) in the workflow's latest run.
 */
export function ExpressionPreview({
  expression,
  mode,
  source,
  sourceIsInputNode,
}: {
  expression: string;
  mode: "value" | "condition" | "template";
  source: PreviewSource;
  /** The source is an `input` node (its output is the run inputs), as the editor knows it. */
  sourceIsInputNode?: boolean;
}) {
  const runStatus = useLastRun((s) => s.status);
  const run = useLastRun((s) => s.run);
  const expr = useDebounced(expression, 400);

  const node = run?.nodes?.find((n) => n.node_id === source.nodeId);
  // Edge conditions and transforms see the SOURCE node's output object; an input node's output is
  // the run inputs object itself (e.g. {"topic": "x"}), so fall back to the run's inputs for one.
  const sourceIsInput = node?.node_type === "input" || (!node && sourceIsInputNode);
  const value =
    source.kind === "nodeOutput" ? (node?.output ?? (sourceIsInput ? run?.inputs : undefined)) : node?.input;
  const hasValue = value !== undefined && value !== null;
  const key = expr.trim() ? JSON.stringify([expr, mode, run?.id ?? null, source.kind, source.nodeId]) : null;
  const result = useFetch<unknown>(key, (signal) =>
    api.evaluate(expr, hasValue ? value : null, mode, signal).then((r) => r.result),
  );
  const err = result.status === "error" ? result.error : null;
  const position = err instanceof ApiError && typeof err.body.position === "number" ? err.body.position : undefined;

  return (
    <div className="expr-preview" data-testid="expression-preview" aria-live="polite">
      <div className="muted small">
        {runStatus === "loading"
          ? "Loading the last run…"
          : hasValue
            ? `Preview against ${source.kind === "nodeOutput" ? "the output" : "the input"} of ${source.nodeId} in the last run`
            : "No value from a previous run: previewing against null. Run the workflow to preview real values."}
      </div>
      {key !== null && result.status === "loading" && <div className="muted small">Evaluating…</div>}
      {key !== null && result.status === "ready" && (
        <pre className="preview-value" data-testid="expression-preview-result">
          {mode === "condition"
            ? result.data
              ? "true — edge taken"
              : "false — edge not taken"
            : preview(result.data, 1500)}
        </pre>
      )}
      {key !== null && err !== null && (
        <div className="field-error" data-testid="expression-preview-error">
          {err instanceof Error ? err.message : String(err)}
          {position !== undefined ? ` (at ${position})` : ""}
        </div>
      )}
    </div>
  );
}
