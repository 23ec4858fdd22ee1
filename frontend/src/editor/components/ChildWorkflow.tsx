/**
 * Picking another workflow of the workspace to run as a child (a `workflow` or `map` node, an agent's
 * workflow tool), and what the editor reads of the one picked: its name, current version and declared
 * inputs (those of the pinned version when the node names one).
 */
import { useId } from "react";
import { api } from "../../api/endpoints";
import type { InputDecl, NodeConfig } from "../../doc/types";
import { useFetch } from "../../ui/useFetch";
import { useScopedWorkspace } from "../../workspace/scope";
import { useLastRun } from "../lastRun";
import { Field, type Patcher } from "./fields";
import { IntegerField } from "./IntegerField";

/** The most workflows the picker lists (the server's page); one chosen beyond them still shows. */
const LISTED = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The workspace's other workflows (a node or tool may not run its own). */
export function WorkflowSelect({
  id,
  value,
  onChange,
  testId,
}: {
  id: string;
  value: string;
  onChange: (id: string) => void;
  testId?: string;
}) {
  const workspace = useScopedWorkspace();
  const own = useLastRun((s) => s.workflowId);
  const listed = useFetch(workspace, () => api.listWorkflows({ workspace: workspace ?? undefined, page_size: LISTED }));
  const others = listed.status === "ready" ? listed.data.results.filter((w) => w.id !== own) : [];
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
      <option value="">Choose a workflow…</option>
      {value && !others.some((w) => w.id === value) && <option value={value}>{value}</option>}
      {others.map((w) => (
        <option key={w.id} value={w.id}>
          {w.name}
        </option>
      ))}
    </select>
  );
}

export interface ChildWorkflow {
  /** `none`: no workflow picked (or not a workflow's id). */
  status: "none" | "loading" | "ready" | "error";
  name: string | null;
  /** The child's current version. */
  current: number | null;
  /** The inputs the child declares (of the pinned version if there is one), in document order. */
  inputs: Record<string, InputDecl>;
  error: string | null;
}

const NO_INPUTS: Record<string, InputDecl> = {};

/** The workflow a node's config names (`workflow`, `version`), read for its declared inputs. */
export function useChildWorkflow(cfg: NodeConfig): ChildWorkflow {
  const workflow = typeof cfg.workflow === "string" ? cfg.workflow.trim() : "";
  const version = typeof cfg.version === "number" ? cfg.version : null;
  const key = UUID.test(workflow) ? `${workflow}@${version ?? ""}` : null;
  const fetched = useFetch(key, async (signal) => {
    const wf = await api.getWorkflow(workflow, signal);
    const pinned = version !== null && version !== wf.version ? await api.version(workflow, version) : null;
    return { name: wf.name, current: wf.version, inputs: (pinned ?? wf).document.inputs ?? NO_INPUTS };
  });
  if (key === null) return { status: "none", name: null, current: null, inputs: NO_INPUTS, error: null };
  if (fetched.status === "ready") return { status: "ready", ...fetched.data, error: null };
  const error =
    fetched.status === "error" ? (fetched.error instanceof Error ? fetched.error.message : "Not found.") : null;
  return { status: fetched.status, name: null, current: null, inputs: NO_INPUTS, error };
}

/**
 * The child workflow and its version, shared by the `workflow` and `map` node editors. Another workflow
 * resets the version: a number of one workflow means nothing for another.
 */
export function ChildWorkflowFields({
  cfg,
  setCfg,
  child,
}: {
  cfg: NodeConfig;
  setCfg: Patcher<NodeConfig>;
  child: ChildWorkflow;
}) {
  const id = useId();
  const workflow = typeof cfg.workflow === "string" ? cfg.workflow : "";
  return (
    <>
      <Field
        label="Workflow"
        htmlFor={id}
        hint={
          child.status === "loading" ? (
            "Reading its inputs…"
          ) : child.status === "error" ? (
            <span className="field-error" role="alert" data-testid="child-workflow-error">
              {child.error}
            </span>
          ) : child.status === "ready" ? (
            <a href={`/workflows/${workflow}`} target="_blank" rel="noreferrer" data-testid="child-workflow-open">
              Open {child.name} in a new tab
            </a>
          ) : (
            "Another workflow of this workspace, run as a child run of this one."
          )
        }
      >
        <WorkflowSelect
          id={id}
          value={workflow}
          onChange={(next) => setCfg({ workflow: next, version: null }, "workflow")}
          testId="child-workflow"
        />
      </Field>
      <IntegerField
        label="Version"
        value={typeof cfg.version === "number" ? cfg.version : null}
        onChange={(v) => setCfg({ version: v }, "version")}
        min={1}
        max={child.current}
        placeholder={child.current ? `latest (now v${child.current})` : "latest"}
        hint="Empty: the child's current version when each child run starts."
        testId="child-version"
      />
    </>
  );
}
