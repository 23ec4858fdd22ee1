/**
 * The request of an `http` node (docs/workflow-document.md, "The http node"): method, URL, headers,
 * query, body, credential, timeout, how to read the answer, and its side effect with the compensation
 * that undoes it. URL, header and query values and the body are `{{ JSONata }}` templates over the
 * node's inputs; the server validates them and the rendered request.
 */
import { useEffect, useId } from "react";
import type { NodeConfig } from "../../doc/types";
import { useScopedWorkspace } from "../../workspace/scope";
import { useWorkspaceData } from "../../workspace/store";
import { Field, JsonField, NumberField, SelectField, type Patcher } from "./fields";
import { HttpTestRequest } from "./HttpTestRequest";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS";
type ResponseParse = "auto" | "json" | "text";
type SideEffect = "" | "none" | "reversible" | "irreversible";

const METHODS: readonly (readonly [Method, string])[] = (
  ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const
).map((m) => [m, m] as const);
const PARSES: readonly (readonly [ResponseParse, string])[] = [
  ["auto", "auto — JSON when the answer says so"],
  ["json", "json — fail unless the answer is JSON"],
  ["text", "text"],
];
const SIDE_EFFECTS: readonly (readonly [SideEffect, string])[] = [
  ["", "By method (GET/HEAD/OPTIONS: none, others: irreversible)"],
  ["none", "none — changes nothing"],
  ["reversible", "reversible — a rollback can undo it"],
  ["irreversible", "irreversible — logged, never undone"],
];

/** An http node's `response_format` has an `auto` that an agent's type does not know of. */
function httpParse(v: ResponseParse): Partial<NodeConfig> {
  const patch: Record<string, unknown> = { response_format: v };
  return patch;
}

export function HttpRequestEditor({
  cfg,
  setCfg,
  nodeId,
}: {
  cfg: NodeConfig;
  setCfg: Patcher<NodeConfig>;
  /** The node, for a test request over its input in the last run. */
  nodeId?: string;
}) {
  const ids = { url: useId(), body: useId(), key: useId(), credential: useId() };
  const method = (typeof cfg.method === "string" ? cfg.method.toUpperCase() : "GET") as Method;
  const sideEffect = (typeof cfg.side_effect === "string" ? cfg.side_effect : "") as SideEffect;
  const text = (key: string) => (typeof cfg[key] === "string" ? (cfg[key] as string) : "");
  const hasBody = !["GET", "HEAD", "OPTIONS"].includes(method) || text("body") !== "";

  return (
    <div data-testid="http-request-editor">
      <SelectField
        label="Method"
        value={method}
        options={METHODS}
        onChange={(m) => setCfg({ method: m }, "method")}
        testId="http-method"
      />
      <Field label="URL" htmlFor={ids.url} hint="{{ … }} placeholders are JSONata over the node’s inputs.">
        <input
          id={ids.url}
          className="mono"
          value={text("url")}
          onChange={(e) => setCfg({ url: e.target.value }, "url")}
          spellCheck={false}
          data-testid="http-url"
        />
      </Field>
      <JsonField
        label="Headers (name → template)"
        value={cfg.headers ?? {}}
        onChange={(v) => setCfg({ headers: v }, "headers")}
        testId="http-headers"
        rows={3}
      />
      <JsonField
        label="Query (name → template)"
        value={cfg.query ?? {}}
        onChange={(v) => setCfg({ query: v }, "query")}
        testId="http-query"
        rows={2}
      />
      {hasBody && (
        <Field label="Body (template)" htmlFor={ids.body}>
          <textarea
            id={ids.body}
            className="mono"
            rows={4}
            value={text("body")}
            onChange={(e) => setCfg({ body: e.target.value || null }, "body")}
            spellCheck={false}
            data-testid="http-body"
          />
        </Field>
      )}
      <Field label="Credential" htmlFor={ids.credential}>
        <HttpCredentialSelect
          id={ids.credential}
          value={text("credential") || null}
          onChange={(v) => setCfg({ credential: v }, "credential")}
        />
      </Field>
      <NumberField
        label="Timeout (s)"
        value={typeof cfg.timeout_s === "number" ? cfg.timeout_s : null}
        min={0}
        max={3600}
        onChange={(v) => setCfg({ timeout_s: v }, "timeout_s")}
        testId="http-timeout"
      />
      <JsonField
        label="Retry on 429, 5xx and network errors"
        value={cfg.retry ?? null}
        onChange={(v) => setCfg({ retry: v as NodeConfig["retry"] }, "retry")}
        testId="http-retry"
        rows={3}
      />
      <SelectField
        label="Read the answer as"
        value={(text("response_format") || "auto") as ResponseParse}
        options={PARSES}
        onChange={(v) => setCfg(httpParse(v), "response_format")}
        testId="http-response-format"
      />
      <SelectField
        label="Side effect"
        value={sideEffect}
        options={SIDE_EFFECTS}
        onChange={(v) =>
          setCfg({ side_effect: v || null, ...(v === "reversible" ? {} : { compensation: null }) }, "side_effect")
        }
        testId="http-side-effect"
      />
      {sideEffect !== "none" && (
        <Field label="Idempotency key (template, sent as Idempotency-Key)" htmlFor={ids.key}>
          <input
            id={ids.key}
            className="mono"
            value={text("idempotency_key")}
            onChange={(e) => setCfg({ idempotency_key: e.target.value || null }, "idempotency_key")}
            data-testid="http-idempotency-key"
          />
        </Field>
      )}
      {sideEffect === "reversible" && (
        <JsonField
          label='Compensation: {"method", "url", …} over the inputs and `response`, or {"manual": "…"}'
          value={cfg.compensation ?? null}
          onChange={(v) => setCfg({ compensation: v }, "compensation")}
          testId="http-compensation"
        />
      )}
      <HttpTestRequest cfg={cfg} nodeId={nodeId} />
    </div>
  );
}

/** The workspace's `http` credentials (an http node's, an MCP server's); empty: no credential. */
export function HttpCredentialSelect({
  id,
  value,
  onChange,
  testId = "http-credential",
}: {
  id: string;
  value: string | null;
  onChange: (value: string | null) => void;
  testId?: string;
}) {
  const workspace = useScopedWorkspace();
  const entry = useWorkspaceData((s) => (workspace ? s.credentials[workspace] : undefined));
  const loadCredentials = useWorkspaceData((s) => s.loadCredentials);
  useEffect(() => {
    if (workspace) void loadCredentials(workspace);
  }, [workspace, loadCredentials]);
  const usable = (entry?.data ?? []).filter((c) => c.provider === "http");
  const known = usable.some((c) => c.id === value);
  return (
    <select id={id} value={value ?? ""} onChange={(e) => onChange(e.target.value || null)} data-testid={testId}>
      <option value="">None</option>
      {value && !known && <option value={value}>{entry?.status === "ready" ? "Deleted credential" : value}</option>}
      {usable.map((c) => (
        <option key={c.id} value={c.id}>
          {c.hint ? `${c.name} (…${c.hint})` : c.name}
        </option>
      ))}
    </select>
  );
}
