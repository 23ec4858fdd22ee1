import { useId, useState } from "react";
import { INPUT_TYPES, type Budget, type InputDecl, type WorkflowSettings } from "../../doc/types";
import { ModelSelect } from "../../ui/ModelSelect";
import { editorStore, useEditor } from "../store";
import { CheckField, ERROR_POLICIES, Field, NumberField, SelectField, nestedPatcher } from "./fields";

const ERROR_POLICY_OPTIONS = ERROR_POLICIES.map(([policy]) => [policy, policy] as const);

/** Renames a key keeping the order of the others. */
export function renameKey<T>(obj: Record<string, T>, from: string, to: string): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(obj)) out[k === from ? to : k] = v;
  return out;
}

export function WorkflowPanel() {
  const meta = useEditor((s) => s.meta);
  const readOnly = useEditor((s) => s.readOnly);
  const ids = { name: useId(), desc: useId(), model: useId() };
  const st = editorStore.getState();
  const settings = meta.settings ?? ({} as WorkflowSettings);
  const budget: Budget = {
    ...{ max_total_tokens: null, max_cost_usd: null, max_duration_s: null },
    ...(settings.budget as Partial<Budget> | undefined),
  };
  const setSettings = nestedPatcher(st.updateMeta, "settings", settings);
  const setBudget = nestedPatcher(setSettings, "budget", budget);

  return (
    <section className="panel-section" data-testid="workflow-panel" aria-labelledby={`${ids.name}-h`}>
      <h2 className="panel-title" id={`${ids.name}-h`}>
        Workflow
      </h2>
      <p className="muted small">Select a node or an edge to configure it.</p>
      <fieldset disabled={readOnly} className="plain">
        <Field label="Name" htmlFor={ids.name}>
          <input
            id={ids.name}
            value={meta.name ?? ""}
            onChange={(e) => st.updateMeta({ name: e.target.value }, "name")}
            data-testid="workflow-name"
          />
        </Field>
        <Field label="Description" htmlFor={ids.desc}>
          <textarea
            id={ids.desc}
            rows={2}
            value={meta.description ?? ""}
            onChange={(e) => st.updateMeta({ description: e.target.value }, "description")}
          />
        </Field>
        <fieldset className="group" data-testid="workflow-settings">
          <legend>Settings</legend>
          <Field label="Default model" htmlFor={ids.model}>
            <ModelSelect
              id={ids.model}
              value={settings.default_model}
              onChange={(m) => setSettings({ default_model: m ?? "" }, "default_model")}
              testId="settings-default-model"
            />
          </Field>
          <div className="field-row">
            <NumberField
              label="Max concurrency"
              value={settings.max_concurrency}
              min={1}
              step={1}
              onChange={(v) => setSettings({ max_concurrency: v ?? 1 }, "max_concurrency")}
              testId="settings-max-concurrency"
            />
            <SelectField
              label="Error policy"
              value={settings.error_policy ?? "stop"}
              options={ERROR_POLICY_OPTIONS}
              onChange={(error_policy) => setSettings({ error_policy }, "error_policy")}
              testId="settings-error-policy"
            />
          </div>
          <div className="field-row">
            <NumberField
              label="Budget: max tokens"
              value={budget.max_total_tokens}
              min={1}
              step={1}
              placeholder="no limit"
              onChange={(v) => setBudget({ max_total_tokens: v }, "max_total_tokens")}
              testId="settings-budget-tokens"
            />
            <NumberField
              label="Budget: max cost ($)"
              value={budget.max_cost_usd}
              min={0}
              step={0.01}
              placeholder="no limit"
              onChange={(v) => setBudget({ max_cost_usd: v }, "max_cost_usd")}
              testId="settings-budget-cost"
            />
          </div>
          <NumberField
            label="Budget: max duration (s)"
            value={budget.max_duration_s}
            min={1}
            step={1}
            placeholder="no limit"
            onChange={(v) => setBudget({ max_duration_s: v }, "max_duration_s")}
            testId="settings-budget-duration"
          />
        </fieldset>
        <InputsEditor inputs={meta.inputs ?? {}} />
      </fieldset>
    </section>
  );
}

function InputsEditor({ inputs }: { inputs: Record<string, InputDecl> }) {
  const st = editorStore.getState();
  const [error, setError] = useState<string | null>(null);
  const entries = Object.entries(inputs);
  const setInputs = (next: Record<string, InputDecl>, field: string) =>
    st.updateMeta({ inputs: next }, `inputs.${field}`);
  const add = () => {
    let n = entries.length + 1;
    while (`input_${n}` in inputs) n++;
    setInputs({ ...inputs, [`input_${n}`]: { type: "string", required: false, description: "" } }, "add");
  };
  return (
    <fieldset className="group" data-testid="inputs-editor">
      <legend>Inputs</legend>
      {entries.length === 0 && <p className="muted small">No run inputs. Declare them to get a form when running.</p>}
      {entries.map(([name, decl]) => (
        <div className="input-decl" key={name} data-testid={`input-decl-${name}`}>
          <div className="field-row">
            <label className="field">
              <span>Name</span>
              <input
                className="mono"
                defaultValue={name}
                onBlur={(e) => {
                  const to = e.target.value.trim();
                  if (to === name) return;
                  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(to)) {
                    setError("An input name is letters, digits and _, not starting with a digit.");
                    e.target.value = name;
                    return;
                  }
                  if (to in inputs) {
                    setError(`There is already an input “${to}”.`);
                    e.target.value = name;
                    return;
                  }
                  setError(null);
                  setInputs(renameKey(inputs, name, to), `${name}.name`);
                }}
                data-testid="input-name"
              />
            </label>
            <label className="field">
              <span>Type</span>
              <select
                value={decl.type}
                onChange={(e) => setInputs({ ...inputs, [name]: { ...decl, type: e.target.value } }, `${name}.type`)}
                data-testid="input-type"
              >
                {INPUT_TYPES.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
                {!INPUT_TYPES.includes(decl.type as (typeof INPUT_TYPES)[number]) && (
                  <option value={decl.type}>{decl.type}</option>
                )}
              </select>
            </label>
          </div>
          <CheckField
            label="Required"
            checked={Boolean(decl.required)}
            onChange={(required) => setInputs({ ...inputs, [name]: { ...decl, required } }, `${name}.required`)}
            testId="input-required"
          />
          <label className="field">
            <span>Description</span>
            <input
              value={decl.description ?? ""}
              onChange={(e) =>
                setInputs({ ...inputs, [name]: { ...decl, description: e.target.value } }, `${name}.description`)
              }
              data-testid="input-description"
            />
          </label>
          <button
            type="button"
            className="button button-small button-danger"
            onClick={() => {
              const next = { ...inputs };
              delete next[name];
              setInputs(next, `${name}.remove`);
            }}
            aria-label={`Remove input ${name}`}
          >
            Remove
          </button>
        </div>
      ))}
      {error && <p className="field-error">{error}</p>}
      <button type="button" className="button button-small" onClick={add} data-testid="add-input">
        Add input
      </button>
    </fieldset>
  );
}
