/**
 * An agent's tools (docs/workflow-document.md, "Agent tools"): http requests the model may make, MCP servers whose
 * tools it may call, and how many calls one run of the node may make. An MCP server's tools are listed through the
 * outbound guard (`POST workflows/<id>/mcp-tools/`) so that the person picks from what the server offers.
 */
import { useId, useState } from "react";
import { ApiError } from "../../api/client";
import { api, type McpListedTool } from "../../api/endpoints";
import type { NodeConfig } from "../../doc/types";
import { useLastRun } from "../lastRun";
import { WorkflowSelect } from "./ChildWorkflow";
import { CheckField, Field, JsonField, NumberField, type Patcher } from "./fields";
import { HttpCredentialSelect, HttpRequestEditor } from "./HttpRequestEditor";

type ToolEntry = Record<string, unknown> & { kind?: unknown };

const NO_ARGUMENTS = { type: "object", properties: {} };
// What a new tool starts as: valid once it has a URL, so the problems list says what is missing.
const NEW_HTTP_TOOL: ToolEntry = {
  kind: "http",
  name: "",
  description: "",
  parameters: NO_ARGUMENTS,
  request: { method: "GET", url: "" },
};
const NEW_MCP_SERVER: ToolEntry = { kind: "mcp", url: "", tools: "*" };
const NEW_WORKFLOW_TOOL: ToolEntry = {
  kind: "workflow",
  name: "",
  description: "",
  workflow: "",
  parameters: NO_ARGUMENTS,
};
const NEW_TOOLS: readonly (readonly [string, ToolEntry, string])[] = [
  ["http", NEW_HTTP_TOOL, "+ HTTP request"],
  ["mcp", NEW_MCP_SERVER, "+ MCP server"],
  ["workflow", NEW_WORKFLOW_TOOL, "+ Workflow"],
];

const text = (entry: ToolEntry, key: string) => (typeof entry[key] === "string" ? (entry[key] as string) : "");

export function ToolsEditor({ cfg, setCfg }: { cfg: NodeConfig; setCfg: Patcher<NodeConfig> }) {
  const tools = Array.isArray(cfg.tools) ? (cfg.tools as ToolEntry[]) : [];
  const setTools = (next: ToolEntry[], field: string) =>
    setCfg({ tools: next.length ? next : undefined }, `tools.${field}`);
  const patchTool = (index: number) => (patch: Partial<ToolEntry>, field: string) =>
    setTools(
      tools.map((tool, i) => (i === index ? { ...tool, ...patch } : tool)),
      `${index}.${field}`,
    );
  const limit = typeof cfg.max_tool_calls === "number" ? cfg.max_tool_calls : null;

  return (
    <fieldset className="group" data-testid="agent-tools">
      <legend>Tools</legend>
      {tools.length === 0 && <p className="muted small">No tools: the model answers from its prompts alone.</p>}
      {tools.map((tool, i) => (
        <div className="card tool-card" key={i} data-testid={`agent-tool-${i}`}>
          <div className="tool-card-heading">
            <strong className="small">{toolTitle(tool)}</strong>
            <button
              type="button"
              className="button button-small"
              onClick={() =>
                setTools(
                  tools.filter((_, j) => j !== i),
                  `${i}.remove`,
                )
              }
              data-testid="agent-tool-remove"
            >
              Remove
            </button>
          </div>
          {tool.kind === "mcp" ? (
            <McpServerCard server={tool} patch={patchTool(i)} />
          ) : (
            <FunctionToolCard tool={tool} patch={patchTool(i)} />
          )}
        </div>
      ))}
      <div className="field-row">
        {NEW_TOOLS.map(([kind, entry, label]) => (
          <button
            key={kind}
            type="button"
            className="button button-small"
            onClick={() => setTools([...tools, entry], "add")}
            data-testid={`agent-tool-add-${kind}`}
          >
            {label}
          </button>
        ))}
      </div>
      {tools.length > 0 && (
        <NumberField
          label="Max tool calls"
          value={limit}
          min={1}
          max={100}
          step={1}
          placeholder="10"
          hint="Per run of this node; reaching it ends the loop with a clear reason."
          onChange={(v) => setCfg({ max_tool_calls: v ?? undefined }, "max_tool_calls")}
          testId="agent-max-tool-calls"
        />
      )}
    </fieldset>
  );
}

function toolTitle(tool: ToolEntry): string {
  if (tool.kind === "mcp") return `MCP server ${text(tool, "name") || text(tool, "url") || "(no URL yet)"}`;
  const kind = tool.kind === "workflow" ? "Workflow" : "HTTP request";
  return `${kind} tool ${text(tool, "name") || "(no name yet)"}`;
}

/** An http (or workflow) tool: the function the model sees, and what calling it does. */
function FunctionToolCard({ tool, patch }: { tool: ToolEntry; patch: Patcher<ToolEntry> }) {
  const ids = { name: useId(), description: useId(), workflow: useId() };
  const request = (tool.request ?? {}) as NodeConfig;
  return (
    <>
      <Field label="Name the model calls it by" htmlFor={ids.name} hint="Letters, digits, _ and -.">
        <input
          id={ids.name}
          value={text(tool, "name")}
          onChange={(e) => patch({ name: e.target.value }, "name")}
          maxLength={64}
          data-testid="agent-tool-name"
        />
      </Field>
      <Field label="What it does (for the model)" htmlFor={ids.description}>
        <textarea
          id={ids.description}
          rows={2}
          value={text(tool, "description")}
          onChange={(e) => patch({ description: e.target.value }, "description")}
          data-testid="agent-tool-description"
        />
      </Field>
      <JsonField
        label="Arguments (JSON Schema of an object)"
        value={tool.parameters ?? NO_ARGUMENTS}
        onChange={(parameters) => patch({ parameters }, "parameters")}
        rows={3}
        testId="agent-tool-parameters"
      />
      {tool.kind === "workflow" && (
        <Field
          label="Workflow"
          htmlFor={ids.workflow}
          hint="Another workflow of this workspace, run as a child; the arguments are its inputs."
        >
          <WorkflowSelect
            id={ids.workflow}
            value={text(tool, "workflow")}
            onChange={(workflow) => patch({ workflow }, "workflow")}
            testId="agent-tool-workflow"
          />
        </Field>
      )}
      {tool.kind === "http" && (
        <>
          <p className="muted small">
            Templates read the model’s arguments as <code>{"{{ $.args.name }}"}</code>.
          </p>
          <HttpRequestEditor
            cfg={request}
            setCfg={(change, field) => patch({ request: { ...request, ...change } }, `request.${field}`)}
          />
        </>
      )}
    </>
  );
}

type Listing =
  | { kind: "idle" }
  | { kind: "listing" }
  | { kind: "listed"; tools: McpListedTool[] }
  | { kind: "error"; code: string; message: string };

/** An MCP server: where it is, its credential, and which of its tools the model is offered. */
function McpServerCard({ server, patch }: { server: ToolEntry; patch: Patcher<ToolEntry> }) {
  const ids = { url: useId(), label: useId(), credential: useId() };
  const workflowId = useLastRun((s) => s.workflowId);
  const [listing, setListing] = useState<Listing>({ kind: "idle" });
  const offered = Array.isArray(server.tools) ? (server.tools as string[]) : null; // null: every tool
  const credential = text(server, "credential") || null;

  async function list() {
    if (!workflowId) return;
    setListing({ kind: "listing" });
    try {
      const result = await api.mcpTools(workflowId, text(server, "url"), credential);
      setListing({ kind: "listed", tools: result.tools });
    } catch (err) {
      setListing(
        err instanceof ApiError
          ? { kind: "error", code: err.code, message: err.message }
          : { kind: "error", code: "network", message: String(err) },
      );
    }
  }

  const toggle = (name: string, on: boolean) => {
    const current = offered ?? [];
    patch({ tools: on ? [...current, name] : current.filter((n) => n !== name) }, "tools");
  };

  return (
    <>
      <Field label="Server URL (streamable HTTP)" htmlFor={ids.url}>
        <input
          id={ids.url}
          value={text(server, "url")}
          onChange={(e) => patch({ url: e.target.value }, "url")}
          placeholder="http://127.0.0.1:8931/mcp"
          maxLength={2048}
          data-testid="agent-mcp-url"
        />
      </Field>
      <div className="field-row">
        <Field label="Name" htmlFor={ids.label} hint="Letters, digits, _ and -; shown in the canvas.">
          <input
            id={ids.label}
            value={text(server, "name")}
            onChange={(e) => patch({ name: e.target.value || undefined }, "name")}
            data-testid="agent-mcp-label"
          />
        </Field>
        <Field label="Credential" htmlFor={ids.credential}>
          <HttpCredentialSelect
            id={ids.credential}
            value={credential}
            onChange={(v) => patch({ credential: v ?? undefined }, "credential")}
            testId="agent-mcp-credential"
          />
        </Field>
      </div>
      <CheckField
        label="Offer every tool the server lists"
        checked={offered === null}
        onChange={(all) => patch({ tools: all ? "*" : [] }, "tools")}
        testId="agent-mcp-all"
      />
      <button
        type="button"
        className="button button-small"
        onClick={() => void list()}
        disabled={!workflowId || !text(server, "url") || listing.kind === "listing"}
        data-testid="agent-mcp-list"
      >
        {listing.kind === "listing" ? "Listing…" : "List the server’s tools"}
      </button>
      {listing.kind === "error" && (
        <div className="field-error" role="alert" data-testid="agent-mcp-error">
          <code>{listing.code}</code> {listing.message}
        </div>
      )}
      {listing.kind === "listed" && (
        <ul className="tool-list" aria-live="polite" data-testid="agent-mcp-tools">
          {listing.tools.map((tool) => (
            <li key={tool.name}>
              <label className="check" title={tool.description}>
                <input
                  type="checkbox"
                  checked={offered === null || offered.includes(tool.name)}
                  disabled={offered === null}
                  onChange={(e) => toggle(tool.name, e.target.checked)}
                  data-testid={`agent-mcp-tool-${tool.name}`}
                />
                <span className="mono">{tool.name}</span>
                {tool.description && <span className="muted small"> — {tool.description}</span>}
              </label>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
