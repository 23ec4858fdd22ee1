import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { api } from "../api/endpoints";
import type { Template } from "../api/types";
import type { InputDecl } from "../doc/types";
import { useSession } from "../session/store";
import { FormError } from "../ui/forms";
import { ListBody, EmptyState } from "../ui/states";
import { useFetch } from "../ui/useFetch";
import { InstantiateDialog, TemplateCard } from "./TemplatesPage";

/** How many templates the welcome offers; the Templates page has them all. */
const OFFERED_TEMPLATES = 3;

/** What the demo run is asked about: any text will do for the offline models, which echo or summarise it. */
export const DEMO_TEXT = "A short tour of what Agentloom does";

/**
 * The template the one-click demo runs: a built-in one whose every variable has a default and whose
 * models default to the offline `mock/*` ones, so it runs with no provider and no credential, and that
 * waits for no one and calls nothing outside (no approval, no http node, no agent tools), in one run
 * (no child workflows).
 */
export function offlineDemoTemplate(templates: readonly Template[]): Template | undefined {
  return templates.find(
    (t) =>
      t.built_in &&
      t.variables.every((v) => !v.required || (v.default !== undefined && v.default !== null)) &&
      t.variables.some((v) => v.type === "model") &&
      t.variables.every((v) => v.type !== "model" || String(v.default).startsWith("mock/")) &&
      t.document.nodes.every((n) => !SELF_CONTAINED_EXCEPT.has(n.type) && !n.data.config?.tools),
  );
}

// Node types that wait for a person or for child runs, or reach a server: a demo that must simply
// succeed, and show every node of its run on one canvas, has none.
const SELF_CONTAINED_EXCEPT = new Set(["approval", "http", "workflow", "map"]);

/** Values for a document's required inputs that have no default, so the demo starts without a form. */
export function demoInputs(decls: Record<string, InputDecl>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(decls)
      .filter(([, d]) => d.required && (d.default === undefined || d.default === null))
      .map(([name, d]) => [name, sampleValue(d.type)]),
  );
}

function sampleValue(type: InputDecl["type"]): unknown {
  switch (type) {
    case "number":
    case "integer":
      return 1;
    case "boolean":
      return false;
    case "object":
      return {};
    case "array":
      return [];
    default:
      return DEMO_TEXT;
  }
}

/**
 * What an empty workspace shows instead of an empty list: a few templates to start from and a demo
 * run on the offline models. Viewers cannot create workflows, so they get only a word on why it is empty.
 */
export function Welcome({ canWrite }: { canWrite: boolean }) {
  if (!canWrite)
    return (
      <EmptyState title="No workflows yet">
        You are a viewer in this workspace: an owner or an editor creates workflows, and they will show up here.
      </EmptyState>
    );
  return <WelcomeForWriters />;
}

function WelcomeForWriters() {
  const workspaceId = useSession((s) => s.workspaceId);
  const navigate = useNavigate();
  const loaded = useFetch<Template[]>("templates", () => api.templates());
  const templates = loaded.data ?? [];
  const demo = offlineDemoTemplate(templates);
  const [picked, setPicked] = useState<Template | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const runDemo = async (template: Template) => {
    setBusy(true);
    setError(null);
    try {
      const workflow = await api.instantiate(template.id, {
        ...(workspaceId ? { workspace: workspaceId } : {}),
        name: `${template.name} (demo)`,
        variables: {},
      });
      const run = await api.startRun(workflow.id, demoInputs(workflow.document.inputs), workflow.version);
      navigate(`/runs/${run.id}`);
    } catch (err) {
      setBusy(false);
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <section className="welcome" data-testid="welcome">
      <h2>Welcome to Agentloom</h2>
      <p>
        A workflow is a graph of agents and steps. Start from a template, build one from scratch with “New workflow”, or
        watch one run first.
      </p>
      {demo && (
        <div className="card welcome-demo">
          <p>
            The demo makes a workflow from “{demo.name}” and runs it on the built-in offline models: no provider key
            needed, nothing is billed.
          </p>
          <button
            type="button"
            className="button button-primary"
            onClick={() => void runDemo(demo)}
            disabled={busy}
            data-testid="welcome-demo-run"
          >
            {busy ? "Starting the demo…" : "Run a demo"}
          </button>
          <FormError error={error} testId="welcome-demo-error" />
        </div>
      )}
      <h3>Start from a template</h3>
      <ListBody list={loaded} count={templates.length} empty={<EmptyState title="No templates yet" />}>
        <ul className="card-grid" data-testid="welcome-templates">
          {templates.slice(0, OFFERED_TEMPLATES).map((t) => (
            <TemplateCard key={t.id} template={t} onUse={() => setPicked(t)} />
          ))}
        </ul>
        {templates.length > OFFERED_TEMPLATES && (
          <Link to="/templates" data-testid="welcome-all-templates">
            All {templates.length} templates
          </Link>
        )}
      </ListBody>
      {picked && <InstantiateDialog template={picked} onClose={() => setPicked(null)} />}
    </section>
  );
}
