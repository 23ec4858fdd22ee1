import { useEffect, useState, type FormEvent } from "react";
import { ApiError } from "../../api/client";
import { api } from "../../api/endpoints";
import type { Estimate, Run } from "../../api/types";
import type { InputDecl, Problem } from "../../doc/types";
import { Dialog } from "../../ui/Dialog";
import { FormError, FormFooter } from "../../ui/forms";
import { formatCost, formatTokens } from "../../ui/format";
import { useFetch } from "../../ui/useFetch";
import { useDebounced } from "./fields";

type Raw = Record<string, string | boolean>;

/** Turns the form's raw values into typed inputs; errors per field. */
export function coerceInputs(
  decls: Record<string, InputDecl>,
  raw: Raw,
): { inputs: Record<string, unknown>; errors: Record<string, string> } {
  const inputs: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const [name, d] of Object.entries(decls)) {
    const v = raw[name];
    if (d.type === "boolean") {
      inputs[name] = Boolean(v);
      continue;
    }
    const text = typeof v === "string" ? v : "";
    if (text.trim() === "") {
      if (d.required) errors[name] = "Required.";
      else if (d.default !== undefined) inputs[name] = d.default;
      continue;
    }
    if (d.type === "number" || d.type === "integer") {
      const n = Number(text);
      if (!Number.isFinite(n)) errors[name] = "Enter a number.";
      else if (d.type === "integer" && !Number.isInteger(n)) errors[name] = "Enter a whole number.";
      else inputs[name] = n;
    } else if (d.type === "object" || d.type === "array") {
      try {
        const parsed: unknown = JSON.parse(text);
        if (
          d.type === "array"
            ? !Array.isArray(parsed)
            : typeof parsed !== "object" || parsed === null || Array.isArray(parsed)
        )
          errors[name] = `Enter a JSON ${d.type}.`;
        else inputs[name] = parsed;
      } catch {
        errors[name] = "Not valid JSON.";
      }
    } else inputs[name] = text;
  }
  return { inputs, errors };
}

function initialRaw(decls: Record<string, InputDecl>): Raw {
  const raw: Raw = {};
  for (const [name, d] of Object.entries(decls)) {
    if (d.type === "boolean") raw[name] = Boolean(d.default);
    else if (d.default !== undefined && d.default !== null)
      raw[name] = typeof d.default === "string" ? d.default : JSON.stringify(d.default);
    else raw[name] = "";
  }
  return raw;
}

export function RunDialog({
  workflowId,
  inputs: decls,
  prepare,
  onStarted,
  onClose,
}: {
  workflowId: string;
  inputs: Record<string, InputDecl>;
  /** Saves pending edits; resolves to the version to run. */
  prepare: () => Promise<number>;
  onStarted: (run: Run) => void;
  onClose: () => void;
}) {
  const [raw, setRaw] = useState<Raw>(() => initialRaw(decls));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [version, setVersion] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [busy, setBusy] = useState(false);
  const debounced = useDebounced(raw, 400);

  useEffect(() => {
    prepare()
      .then(setVersion)
      .catch((err: unknown) =>
        setError(`Could not save before running: ${err instanceof Error ? err.message : String(err)}`),
      );
  }, [prepare]);

  const estimateKey = version === null ? null : JSON.stringify([version, coerceInputs(decls, debounced).inputs]);
  const estimate = useFetch<Estimate>(estimateKey, (signal) =>
    api.estimate(workflowId, coerceInputs(decls, debounced).inputs, version ?? undefined, signal),
  );

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const { inputs, errors: errs } = coerceInputs(decls, raw);
    setErrors(errs);
    if (Object.keys(errs).length || version === null) return;
    setBusy(true);
    setError(null);
    setProblems([]);
    try {
      const run = await api.startRun(workflowId, inputs, version);
      onStarted(run);
    } catch (err) {
      setBusy(false);
      setError(err instanceof Error ? err.message : String(err));
      if (err instanceof ApiError) {
        if (Array.isArray(err.body.problems)) setProblems(err.body.problems as Problem[]);
        if (err.body.fields && typeof err.body.fields === "object") {
          const f = err.body.fields as Record<string, unknown>;
          setErrors(
            Object.fromEntries(
              Object.entries(f).map(([k, m]) => [
                k.replace(/^inputs\./, ""),
                Array.isArray(m) ? m.join(" ") : String(m),
              ]),
            ),
          );
        }
      }
    }
  };

  const entries = Object.entries(decls);
  return (
    <Dialog title="Run workflow" onClose={onClose} wide testId="run-dialog">
      <form className="form" onSubmit={(e) => void submit(e)}>
        {entries.length === 0 && <p className="muted">This workflow declares no inputs.</p>}
        {entries.map(([name, d]) => {
          const id = `run-input-${name}`;
          const v = raw[name];
          return (
            <div className="field" key={name}>
              <label htmlFor={id}>
                {name}
                {d.required && <span aria-hidden="true"> *</span>} <span className="muted small">({d.type})</span>
              </label>
              {d.type === "boolean" ? (
                <input
                  id={id}
                  type="checkbox"
                  checked={Boolean(v)}
                  onChange={(e) => setRaw({ ...raw, [name]: e.target.checked })}
                  data-testid={id}
                />
              ) : d.type === "number" || d.type === "integer" ? (
                <input
                  id={id}
                  type="number"
                  step={d.type === "integer" ? 1 : "any"}
                  value={String(v ?? "")}
                  onChange={(e) => setRaw({ ...raw, [name]: e.target.value })}
                  data-testid={id}
                />
              ) : d.type === "object" || d.type === "array" ? (
                <textarea
                  id={id}
                  className="mono"
                  rows={4}
                  value={String(v ?? "")}
                  onChange={(e) => setRaw({ ...raw, [name]: e.target.value })}
                  placeholder={d.type === "array" ? "[]" : "{}"}
                  data-testid={id}
                />
              ) : (
                <textarea
                  id={id}
                  rows={2}
                  value={String(v ?? "")}
                  onChange={(e) => setRaw({ ...raw, [name]: e.target.value })}
                  data-testid={id}
                />
              )}
              {d.description && <small className="muted">{d.description}</small>}
              {errors[name] && <small className="field-error">{errors[name]}</small>}
            </div>
          );
        })}
        <div className="estimate" data-testid="run-estimate" aria-live="polite">
          <h3>Estimate</h3>
          {version === null && !error && <span className="muted">Saving…</span>}
          {estimate.data && (
            <dl className="kv">
              <dt>Prompt tokens</dt>
              <dd>{formatTokens(estimate.data.prompt_tokens)}</dd>
              <dt>Completion tokens</dt>
              <dd>{formatTokens(estimate.data.completion_tokens)}</dd>
              <dt>Total tokens</dt>
              <dd data-testid="estimate-total-tokens">{formatTokens(estimate.data.total_tokens)}</dd>
              <dt>Cost</dt>
              <dd data-testid="estimate-cost">{formatCost(estimate.data.cost_usd)}</dd>
            </dl>
          )}
          {version !== null && estimate.status === "loading" && <span className="muted small">Estimating…</span>}
          {estimate.status === "error" && (
            <span className="muted small">
              No estimate: {estimate.error instanceof Error ? estimate.error.message : String(estimate.error)}
            </span>
          )}
        </div>
        <FormError error={error} problems={problems} testId="run-error" />
        <FormFooter
          onCancel={onClose}
          submitLabel={busy ? "Starting…" : version === null ? "Saving…" : `Run v${version}`}
          submitDisabled={busy || version === null}
          submitTestId="run-submit"
        />
      </form>
    </Dialog>
  );
}
