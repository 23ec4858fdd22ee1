/**
 * A `map` node's config (SPEC §12): the list (`items`, JSONata over the node's inputs), the workflow run
 * once per item (its child runs get `{item, index}`, each input it declares), how many run at once
 * (`max_parallel`) and what a failed item does (`on_item_error`).
 */
import { useId } from "react";
import type { NodeConfig } from "../../doc/types";
import { ChildWorkflowFields, useChildWorkflow, type ChildWorkflow } from "./ChildWorkflow";
import { Field, SelectField, type Patcher } from "./fields";
import { IntegerField } from "./IntegerField";

/** `workers/engine/flow.py`: MAX_PARALLEL, DEFAULT_MAX_PARALLEL, MAX_MAP_ITEMS, ON_ITEM_ERROR. */
export const MAX_PARALLEL = 1000;
const DEFAULT_MAX_PARALLEL = 10;
const MAX_MAP_ITEMS = 10_000;
type OnItemError = "fail" | "skip" | "collect";
const ON_ITEM_ERROR: readonly (readonly [OnItemError, string])[] = [
  ["fail", "fail — the node fails at the first failed item"],
  ["skip", "skip — the output leaves failed items out"],
  ["collect", "collect — a failed item's place holds {error}"],
];
/** What a map gives each child run, by input name (`flow.ITEM_KEY`, `flow.INDEX_KEY`). */
const GIVEN = ["item", "index"];

export function MapNodeEditor({ cfg, setCfg }: { cfg: NodeConfig; setCfg: Patcher<NodeConfig> }) {
  const child = useChildWorkflow(cfg);
  const id = useId();
  const onItemError = (typeof cfg.on_item_error === "string" ? cfg.on_item_error : "fail") as OnItemError;
  return (
    <div data-testid="map-node-editor">
      <Field
        label="Items (JSONata giving a list)"
        htmlFor={id}
        hint={`Over the node's inputs, e.g. $.run.topics: one child run per item, at most ${MAX_MAP_ITEMS.toLocaleString("en")}.`}
      >
        <textarea
          id={id}
          className="mono"
          rows={2}
          value={typeof cfg.items === "string" ? cfg.items : ""}
          onChange={(e) => setCfg({ items: e.target.value }, "items")}
          spellCheck={false}
          data-testid="map-items"
        />
      </Field>
      <ChildWorkflowFields cfg={cfg} setCfg={setCfg} child={child} />
      <ChildGets child={child} />
      <div className="field-row">
        <IntegerField
          label="At once"
          value={typeof cfg.max_parallel === "number" ? cfg.max_parallel : null}
          onChange={(v) => setCfg({ max_parallel: v }, "max_parallel")}
          min={1}
          max={MAX_PARALLEL}
          placeholder={String(DEFAULT_MAX_PARALLEL)}
          hint={`Child runs at a time, across the workers: 1 to ${MAX_PARALLEL}.`}
          testId="map-max-parallel"
        />
        <SelectField
          label="A failed item"
          value={onItemError}
          options={ON_ITEM_ERROR}
          onChange={(v) => setCfg({ on_item_error: v }, "on_item_error")}
          testId="map-on-item-error"
        />
      </div>
    </div>
  );
}

/** Which of `item` and `index` the child takes, and the inputs it requires that a map cannot give. */
function ChildGets({ child }: { child: ChildWorkflow }) {
  if (child.status !== "ready") return null;
  const takes = GIVEN.filter((k) => Object.hasOwn(child.inputs, k));
  const unmet = Object.entries(child.inputs)
    .filter(([k, d]) => !GIVEN.includes(k) && d.required && d.default == null)
    .map(([k]) => k);
  return (
    <div className="small" data-testid="map-child-gets">
      <p className="muted">
        {takes.length
          ? `Each child run gets ${takes.join(" and ")} as its input${takes.length > 1 ? "s" : ""}.`
          : `${child.name} declares neither item nor index: its runs get nothing of the list.`}
      </p>
      {unmet.length > 0 && (
        <p className="field-warning" data-testid="map-child-unmet">
          {child.name} requires {unmet.join(", ")} with no default, which a map does not give: its runs would be
          refused.
        </p>
      )}
    </div>
  );
}
