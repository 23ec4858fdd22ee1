import { memo, useId, useMemo, useState } from "react";
import { nodeTypeInfo } from "../../doc/catalog";
import { edgeInputKey } from "../../doc/convert";
import { ENGINE_NODE_TYPES } from "../../doc/engine";
import { isKnownType } from "../../doc/catalog";
import type { Backoff, ErrorPolicy, NodeConfig, ResponseFormat, RetryPolicy } from "../../doc/types";
import { CredentialSelect } from "../../ui/CredentialSelect";
import { PanelProblems } from "../../ui/forms";
import { ModelSelect } from "../../ui/ModelSelect";
import { modelProvider } from "../../workspace/models";
import { NodeIcon } from "../../ui/NodeIcon";
import { useShallow } from "zustand/react/shallow";
import { editorStore, useEditor, type EditorState } from "../store";
import { ExpressionPreview } from "./ExpressionPreview";
import {
  CheckField,
  ERROR_POLICIES,
  Field,
  JsonField,
  NumberField,
  SelectField,
  nestedPatcher,
  type Patcher,
} from "./fields";
import { ApprovalEditor } from "./ApprovalEditor";
import { HttpRequestEditor } from "./HttpRequestEditor";
import { MapNodeEditor } from "./MapNodeEditor";
import { PromptEditor } from "./PromptEditor";
import { ToolsEditor } from "./ToolsEditor";
import { WorkflowNodeEditor } from "./WorkflowNodeEditor";

const EMPTY: readonly string[] = [];
const RESPONSE_FORMATS: readonly (readonly [ResponseFormat, ResponseFormat])[] = [
  ["text", "text"],
  ["json", "json"],
];
const BACKOFFS: readonly (readonly [Backoff, Backoff])[] = [
  ["exponential", "exponential"],
  ["linear", "linear"],
  ["fixed", "fixed"],
];
const ON_ERROR: readonly (readonly [ErrorPolicy | "", string])[] = [
  ["", "Workflow default"],
  ...ERROR_POLICIES.map(([policy, effect]) => [policy, `${policy} — ${effect}`] as const),
];

export function NodePanel({ nodeId }: { nodeId: string }) {
  const node = useEditor((s) => s.nodes.find((n) => n.id === nodeId));
  const readOnly = useEditor((s) => s.readOnly);
  const inputs = useEditor((s) => s.meta.inputs);
  const defaultModel = useEditor((s) => s.meta.settings?.default_model);
  const problems = useEditor((s) => s.problemIndex.byNode[nodeId]);
  const edges = useEditor((s) => s.edges);
  const ids = {
    label: useId(),
    model: useId(),
    credential: useId(),
    temp: useId(),
    sys: useId(),
    prompt: useId(),
    expr: useId(),
  };

  const declared = useMemo(() => Object.keys(inputs ?? {}), [inputs]);
  const inputKeys = useMemo(
    () =>
      edges
        .filter((e) => e.target === nodeId)
        .map((e) => edgeInputKey({ source: e.source, target_handle: e.data?.target_handle ?? null })),
    [edges, nodeId],
  );
  if (!node) return null;
  const type = node.data.__type ?? node.type ?? "";
  const info = nodeTypeInfo(type);
  const cfg: NodeConfig = node.data.config ?? {};
  const st = editorStore.getState();
  const setCfg: Patcher<NodeConfig> = (patch, field) => st.updateConfig(nodeId, patch, `${nodeId}:${field}`);
  // Fields the node leaves out show the engine's default for its type.
  const defaultRetry = isKnownType(type) ? ENGINE_NODE_TYPES[type].default_config.retry : null;
  const retry = { ...defaultRetry, ...(cfg.retry ?? {}) } as RetryPolicy;
  const setRetry = nestedPatcher(setCfg, "retry", retry);
  const temp = typeof cfg.temperature === "number" ? cfg.temperature : null;
  const tempOutOfRange = temp !== null && (temp < 0 || temp > 2);
  const model = cfg.model || defaultModel || null;
  const credential = cfg.credential || null;

  return (
    <section className="panel-section" aria-labelledby={`${ids.label}-h`} data-testid="node-panel">
      <div className="panel-heading">
        <NodeIcon type={type} />
        <div>
          <h2 id={`${ids.label}-h`} className="panel-title">
            {info.title}
          </h2>
          <div className="muted small mono" data-testid="node-panel-id">
            {nodeId}
          </div>
        </div>
      </div>
      <PanelProblems problems={problems} testId="node-panel-problems" />
      <fieldset disabled={readOnly} className="plain">
        <Field label="Label" htmlFor={ids.label}>
          <input
            id={ids.label}
            value={node.data.label}
            onChange={(e) => st.updateNode(nodeId, { label: e.target.value }, `${nodeId}:label`)}
            data-testid="node-label"
          />
        </Field>

        {info.agent && (
          <>
            <Field label="Model" htmlFor={ids.model}>
              <ModelSelect
                id={ids.model}
                value={cfg.model ?? null}
                onChange={(m) => setCfg({ model: m }, "model")}
                emptyLabel={`Workflow default (${defaultModel ?? "none"})`}
                testId="node-model"
              />
            </Field>
            {(credential || (model && modelProvider(model) !== "mock")) && (
              <Field label="Credential" htmlFor={ids.credential}>
                <CredentialSelect
                  id={ids.credential}
                  value={credential}
                  model={model}
                  onChange={(c) => setCfg({ credential: c ?? undefined }, "credential")}
                  testId="node-credential"
                />
              </Field>
            )}
            <div className="field">
              <label htmlFor={ids.temp}>Temperature</label>
              <div className="slider-row">
                <input
                  type="range"
                  min={0}
                  max={2}
                  step={0.1}
                  value={temp ?? 0.7}
                  onChange={(e) => setCfg({ temperature: Number(e.target.value) }, "temperature")}
                  aria-label="Temperature slider"
                  data-testid="node-temperature-slider"
                />
                <input
                  id={ids.temp}
                  type="number"
                  min={0}
                  max={2}
                  step={0.1}
                  value={temp ?? ""}
                  onChange={(e) =>
                    setCfg({ temperature: e.target.value === "" ? null : Number(e.target.value) }, "temperature")
                  }
                  aria-invalid={tempOutOfRange || undefined}
                  data-testid="node-temperature"
                />
              </div>
              {tempOutOfRange && <small className="field-error">Temperature must be between 0 and 2.</small>}
            </div>
            <Field label="System prompt" htmlFor={ids.sys}>
              <PromptEditor
                id={ids.sys}
                value={cfg.system_prompt ?? ""}
                onChange={(v) => setCfg({ system_prompt: v }, "system_prompt")}
                rows={4}
                declaredInputs={declared}
                inputKeys={inputKeys}
                testId="node-system-prompt"
              />
            </Field>
            <Field
              label="Prompt"
              htmlFor={ids.prompt}
              hint={
                <>
                  <code>{"{{ $.run.topic }}"}</code> reads a run input; <code>{"{{ $.key }}"}</code> an incoming edge’s
                  input key
                  {inputKeys.length ? ` (${inputKeys.join(", ")})` : ""}. Empty: every input under a heading.
                </>
              }
            >
              <PromptEditor
                id={ids.prompt}
                value={cfg.prompt ?? ""}
                onChange={(v) => setCfg({ prompt: v }, "prompt")}
                rows={6}
                declaredInputs={declared}
                inputKeys={inputKeys}
                testId="node-prompt"
              />
            </Field>
            <div className="field-row">
              <NumberField
                label="Max tokens"
                value={cfg.max_tokens}
                min={1}
                step={1}
                onChange={(v) => setCfg({ max_tokens: v }, "max_tokens")}
                testId="node-max-tokens"
              />
              <NumberField
                label="Timeout (s)"
                value={cfg.timeout_s}
                min={1}
                step={1}
                onChange={(v) => setCfg({ timeout_s: v }, "timeout_s")}
                testId="node-timeout"
              />
            </div>
            {typeof cfg.max_tokens === "number" && cfg.max_tokens <= 0 && (
              <small className="field-error">Max tokens must be above 0.</small>
            )}
            <div className="field-row">
              <CheckField
                label="Stream tokens"
                checked={cfg.stream ?? true}
                onChange={(stream) => setCfg({ stream }, "stream")}
                testId="node-stream"
              />
              <SelectField
                label="Response format"
                value={cfg.response_format ?? "text"}
                options={RESPONSE_FORMATS}
                onChange={(response_format) => setCfg({ response_format }, "response_format")}
                testId="node-response-format"
              />
            </div>
            <ToolsEditor cfg={cfg} setCfg={setCfg} />
            <fieldset className="group">
              <legend>Retry policy</legend>
              <div className="field-row">
                <NumberField
                  label="Max attempts"
                  value={retry.max_attempts}
                  min={1}
                  step={1}
                  onChange={(v) => setRetry({ max_attempts: v ?? 1 }, "max_attempts")}
                  testId="node-retry-attempts"
                />
                <SelectField
                  label="Backoff"
                  value={retry.backoff}
                  options={BACKOFFS}
                  onChange={(backoff) => setRetry({ backoff }, "backoff")}
                />
              </div>
              <div className="field-row">
                <NumberField
                  label="Initial delay (ms)"
                  value={retry.initial_delay_ms}
                  min={0}
                  step={100}
                  onChange={(v) => setRetry({ initial_delay_ms: v ?? 0 }, "initial_delay_ms")}
                />
                <NumberField
                  label="Max delay (ms)"
                  value={retry.max_delay_ms}
                  min={0}
                  step={1000}
                  onChange={(v) => setRetry({ max_delay_ms: v ?? 0 }, "max_delay_ms")}
                />
              </div>
              <CheckField label="Jitter" checked={retry.jitter} onChange={(jitter) => setRetry({ jitter }, "jitter")} />
            </fieldset>
          </>
        )}

        {type === "transformer" && (
          <Field label="Expression (JSONata over the node’s inputs)" htmlFor={ids.expr}>
            <textarea
              id={ids.expr}
              className="mono"
              rows={5}
              value={cfg.expression ?? ""}
              onChange={(e) => setCfg({ expression: e.target.value }, "expression")}
              spellCheck={false}
              data-testid="node-expression"
            />
            <TransformerPreview nodeId={nodeId} expression={cfg.expression ?? ""} />
          </Field>
        )}

        {type === "http" && <HttpRequestEditor cfg={cfg} setCfg={setCfg} nodeId={nodeId} />}

        {type === "approval" && <ApprovalEditor cfg={cfg} setCfg={setCfg} />}

        {type === "workflow" && <WorkflowNodeEditor key={nodeId} cfg={cfg} setCfg={setCfg} />}

        {type === "map" && <MapNodeEditor key={nodeId} cfg={cfg} setCfg={setCfg} />}

        {(info.agent || ["transformer", "http", "approval", "workflow", "map"].includes(type)) && (
          <>
            <SelectField
              label="On error"
              value={cfg.on_error ?? ""}
              options={ON_ERROR}
              onChange={(policy) => setCfg({ on_error: policy || null }, "on_error")}
              testId="node-on-error"
            />
            {cfg.on_error === "fallback" && (
              <JsonField
                label="Fallback output (JSON)"
                value={cfg.fallback_output}
                onChange={(v) => setCfg({ fallback_output: v }, "fallback_output")}
                testId="node-fallback-output"
              />
            )}
          </>
        )}

        {type === "input" && (
          <p className="muted small">
            Exposes the run inputs (declared in Workflow → Inputs) to the nodes it connects to.
          </p>
        )}
        {type === "output" && (
          <p className="muted small">Collects the values of its incoming edges as the run’s output.</p>
        )}
      </fieldset>
      <EditorNodeInputsHint keys={inputKeys.length ? inputKeys : EMPTY} />
      {info.hasSource && !readOnly && <ConnectTo nodeId={nodeId} />}
    </section>
  );
}

function EditorNodeInputsHint({ keys }: { keys: readonly string[] }) {
  if (!keys.length) return null;
  return (
    <p className="muted small">
      Input keys:{" "}
      {keys
        .map((k) => <code key={k}>{k}</code>)
        .reduce<React.ReactNode[]>((acc, x, i) => (i ? [...acc, ", ", x] : [x]), [])}
    </p>
  );
}

/** A transformer's expression evaluated against the inputs its node received in the last run. */
function TransformerPreview({ nodeId, expression }: { nodeId: string; expression: string }) {
  return <ExpressionPreview expression={expression} mode="value" source={{ kind: "nodeInput", nodeId }} />;
}

/** Adds an outgoing edge without a pointer (keyboard users); refusals say why. */
const ConnectTo = memo(function ConnectTo({ nodeId }: { nodeId: string }) {
  // Memoised, and reading only the ids and labels compared item by item: dragging a node (a new
  // nodes array, and a new render of the panel, every frame) must not rebuild up to 1,000 options.
  const targetNodes = (s: EditorState) =>
    s.nodes.filter((n) => n.id !== nodeId && nodeTypeInfo(n.data.__type ?? n.type ?? "").hasTarget);
  const targetIds = useEditor(useShallow((s) => targetNodes(s).map((n) => n.id)));
  const targetLabels = useEditor(useShallow((s) => targetNodes(s).map((n) => n.data.label)));
  const id = useId();
  const [target, setTarget] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  return (
    <div className="field connect-to">
      <label htmlFor={id}>Connect to…</label>
      <div className="slider-row">
        <select id={id} value={target} onChange={(e) => setTarget(e.target.value)} data-testid="connect-to-select">
          <option value="">Choose a node</option>
          {targetIds.map((targetId, i) => (
            <option key={targetId} value={targetId}>
              {targetLabels[i] || targetId} ({targetId})
            </option>
          ))}
        </select>
        <button
          type="button"
          className="button button-small"
          disabled={!target}
          onClick={() => {
            const r = editorStore.getState().connect({ source: nodeId, target });
            setMessage(r.ok ? null : r.reason);
            if (r.ok) setTarget("");
          }}
          data-testid="connect-to-button"
        >
          Connect
        </button>
      </div>
      {message && (
        <small className="field-error" role="alert">
          {message}
        </small>
      )}
    </div>
  );
});
