/**
 * An `approval` node's config (docs/run-semantics.md, "Approvals"): the message its approvers read
 * (a `{{ JSONata }}` template over the node's inputs), who may decide, how long it waits and what
 * its timeout decides. Its outgoing edges are labelled `approved` or `rejected` (or nothing, which
 * follows `approved`).
 */
import { useId, useState } from "react";
import type { NodeConfig } from "../../doc/types";
import { Field, NumberField, SelectField, type Patcher } from "./fields";

type OnTimeout = "reject" | "approve" | "fail";
type Who = "editors" | "named";

const ON_TIMEOUT: readonly (readonly [OnTimeout, string])[] = [
  ["reject", "reject — take the rejected edges"],
  ["approve", "approve — take the approved edges"],
  ["fail", "fail — the node fails (its error policy applies)"],
];
const WHO: readonly (readonly [Who, string])[] = [
  ["editors", "The workspace's owners and editors"],
  ["named", "These people (usernames)"],
];

/** Usernames typed as a comma- or space-separated list. */
function usernames(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

export function ApprovalEditor({ cfg, setCfg }: { cfg: NodeConfig; setCfg: Patcher<NodeConfig> }) {
  const ids = { message: useId(), names: useId() };
  const named = Array.isArray(cfg.approvers) ? (cfg.approvers as unknown[]).map(String) : null;
  const onTimeout = (typeof cfg.on_timeout === "string" ? cfg.on_timeout : "reject") as OnTimeout;
  // What was typed, separators included, while it still says what the config holds (an undo may not).
  const [typed, setTyped] = useState("");
  const namesText = named && usernames(typed).join() === named.join() ? typed : (named ?? []).join(", ");
  return (
    <div data-testid="approval-editor">
      <Field
        label="Message to the approvers"
        htmlFor={ids.message}
        hint="{{ JSONata }} placeholders read the node's inputs."
      >
        <textarea
          id={ids.message}
          rows={4}
          value={typeof cfg.message === "string" ? cfg.message : ""}
          onChange={(e) => setCfg({ message: e.target.value }, "message")}
          data-testid="approval-message"
        />
      </Field>
      <SelectField
        label="Who decides"
        value={named ? "named" : "editors"}
        options={WHO}
        onChange={(who) => setCfg({ approvers: who === "named" ? [] : "editors" }, "approvers")}
        testId="approval-who"
      />
      {named && (
        <Field label="Approvers" htmlFor={ids.names} hint="Usernames of workspace members, separated by commas.">
          <input
            id={ids.names}
            value={namesText}
            onChange={(e) => {
              setTyped(e.target.value);
              setCfg({ approvers: usernames(e.target.value) }, "approvers");
            }}
            data-testid="approval-approvers"
          />
        </Field>
      )}
      <div className="field-row">
        <NumberField
          label="Timeout (s)"
          value={typeof cfg.timeout_s === "number" ? cfg.timeout_s : null}
          min={1}
          step={60}
          onChange={(v) => setCfg({ timeout_s: v }, "timeout_s")}
          hint="The run's duration budget keeps counting while it waits."
          testId="approval-timeout"
        />
        <SelectField
          label="On timeout"
          value={onTimeout}
          options={ON_TIMEOUT}
          onChange={(v) => setCfg({ on_timeout: v }, "on_timeout")}
          testId="approval-on-timeout"
        />
      </div>
    </div>
  );
}
