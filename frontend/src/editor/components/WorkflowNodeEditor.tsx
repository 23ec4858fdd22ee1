/**
 * A `workflow` node's config (SPEC §12): the child workflow it runs, the child's inputs (a JSONata object
 * over the node's inputs, written here one expression per input the child declares, or by hand), and an
 * optional bounded loop: `repeat_until` over `{output, iteration}` and `max_iterations`.
 */
import { useId, useMemo, useState } from "react";
import type { InputDecl, NodeConfig } from "../../doc/types";
import { ChildWorkflowFields, useChildWorkflow, type ChildWorkflow } from "./ChildWorkflow";
import { composeInputsObject, parseInputsObject } from "./childInputs";
import { Field, type Patcher } from "./fields";
import { IntegerField } from "./IntegerField";

/** `workers/engine/flow.py`: MAX_ITERATIONS and DEFAULT_MAX_ITERATIONS. */
export const MAX_ITERATIONS = 100;
const DEFAULT_MAX_ITERATIONS = 10;
/** The input a repeated child receives its previous output under (`flow.PREVIOUS_KEY`). */
const PREVIOUS = "previous";

export function WorkflowNodeEditor({ cfg, setCfg }: { cfg: NodeConfig; setCfg: Patcher<NodeConfig> }) {
  const child = useChildWorkflow(cfg);
  const id = useId();
  const repeatUntil = typeof cfg.repeat_until === "string" ? cfg.repeat_until : "";
  const loops = repeatUntil.trim() !== "";
  return (
    <div data-testid="workflow-node-editor">
      <ChildWorkflowFields cfg={cfg} setCfg={setCfg} child={child} />
      <ChildInputs
        value={typeof cfg.inputs === "string" ? cfg.inputs : ""}
        onChange={(inputs) => setCfg({ inputs }, "inputs")}
        child={child}
        loops={loops}
      />
      <fieldset className="group">
        <legend>Repeat (a bounded loop)</legend>
        <Field
          label="Repeat until"
          htmlFor={id}
          hint={
            <>
              JSONata over <code>{"{output, iteration}"}</code>: the child runs again
              {child.inputs[PREVIOUS] ? (
                <>
                  {" "}
                  with its last output as <code>previous</code>
                </>
              ) : (
                " (declare a previous input in it to receive its last output)"
              )}{" "}
              until this is true. Empty: it runs once.
            </>
          }
        >
          <textarea
            id={id}
            className="mono"
            rows={2}
            value={repeatUntil}
            onChange={(e) => setCfg({ repeat_until: e.target.value.trim() ? e.target.value : null }, "repeat_until")}
            spellCheck={false}
            placeholder='output.verdict = "approved"'
            data-testid="workflow-repeat-until"
          />
        </Field>
        {loops && (
          <IntegerField
            label="Max iterations"
            value={typeof cfg.max_iterations === "number" ? cfg.max_iterations : null}
            onChange={(v) => setCfg({ max_iterations: v }, "max_iterations")}
            min={1}
            max={MAX_ITERATIONS}
            placeholder={String(DEFAULT_MAX_ITERATIONS)}
            hint={`1 to ${MAX_ITERATIONS}; empty: ${DEFAULT_MAX_ITERATIONS}. Past it the last output is the node's.`}
            testId="workflow-max-iterations"
          />
        )}
      </fieldset>
    </div>
  );
}

function declText(decl: InputDecl): string {
  const needed = decl.required && (decl.default === undefined || decl.default === null);
  return `${decl.type}${needed ? ", required" : ""}`;
}

/**
 * The child's inputs: one expression per declared input (and per key the expression names that the child
 * does not declare, flagged), composed into the `inputs` object; or the expression as text, which is the
 * only way for one that is not a plain object of expressions.
 */
function ChildInputs({
  value,
  onChange,
  child,
  loops,
}: {
  value: string;
  onChange: (inputs: string) => void;
  child: ChildWorkflow;
  loops: boolean;
}) {
  const id = useId();
  const parsed = useMemo(() => parseInputsObject(value), [value]);
  const [byHand, setByHand] = useState(parsed === null);
  // What was typed per input, spaces included, while it still says what the config holds.
  const [typed, setTyped] = useState<Record<string, string>>({});
  const asText = byHand || parsed === null;
  const declared = Object.keys(child.inputs);
  const keys = [...declared, ...[...(parsed?.keys() ?? [])].filter((k) => !Object.hasOwn(child.inputs, k))];
  const held = (key: string) => parsed?.get(key) ?? "";
  const shown = (key: string) => {
    const t = typed[key];
    return t !== undefined && t.trim() === held(key) ? t : held(key);
  };
  const setInput = (key: string, text: string) => {
    setTyped({ ...typed, [key]: text });
    onChange(composeInputsObject(keys.map((k) => [k, k === key ? text : held(k)] as const)));
  };

  return (
    <fieldset className="group" data-testid="child-inputs">
      <legend>Inputs of the child</legend>
      <label className="check">
        <input
          type="checkbox"
          checked={asText}
          disabled={parsed === null}
          onChange={(e) => setByHand(e.target.checked)}
          data-testid="child-inputs-by-hand"
        />
        Write the expression by hand
      </label>
      {asText ? (
        <Field
          label="Inputs (JSONata giving an object)"
          htmlFor={id}
          hint={
            parsed === null
              ? "Not an object of one expression per input, so it is edited as text."
              : 'Over the node\'s inputs, e.g. {"topic": $.run.topic}.'
          }
        >
          <textarea
            id={id}
            className="mono"
            rows={4}
            value={value}
            onChange={(e) => onChange(e.target.value)}
            spellCheck={false}
            data-testid="child-inputs-raw"
          />
        </Field>
      ) : (
        <>
          <p className="muted small">
            JSONata over this node’s inputs: <code>$.run.topic</code> reads a run input, <code>$.key</code> an incoming
            edge’s input key. Empty: not given (the child’s default applies).
          </p>
          {child.status === "none" && <p className="muted small">Pick a workflow to give its inputs.</p>}
          {child.status === "ready" && keys.length === 0 && (
            <p className="muted small" data-testid="child-inputs-none">
              {child.name} declares no inputs.
            </p>
          )}
          {keys.map((key) => {
            const decl = child.inputs[key];
            const undeclared = child.status === "ready" && !decl;
            const missing = decl?.required && decl.default == null && !held(key);
            return (
              <Field
                key={key}
                label={decl ? `${key} (${declText(decl)})` : key}
                htmlFor={`${id}-${key}`}
                hint={
                  undeclared ? (
                    <span className="field-warning" data-testid={`child-input-${key}-undeclared`}>
                      Not an input of {child.name}: its runs would be refused. Clear it.
                    </span>
                  ) : missing ? (
                    <span className="field-warning">Required by {child.name}.</span>
                  ) : key === PREVIOUS && loops ? (
                    "From the second iteration on: the last output."
                  ) : (
                    decl?.description
                  )
                }
              >
                <input
                  id={`${id}-${key}`}
                  className="mono"
                  value={shown(key)}
                  onChange={(e) => setInput(key, e.target.value)}
                  spellCheck={false}
                  data-testid={`child-input-${key}`}
                />
              </Field>
            );
          })}
        </>
      )}
    </fieldset>
  );
}
