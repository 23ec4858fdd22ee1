import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter, Route, Routes, useParams } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Me, Role, Template, TemplateVariable } from "../api/types";
import type { InputDecl } from "../doc/types";
import { useSession } from "../session/store";
import { fakeApi, WS } from "../test/fakeApi";
import { DEMO_TEXT, demoInputs, offlineDemoTemplate } from "./Welcome";
import { WorkflowsPage } from "./WorkflowsPage";

function signIn(role: Role) {
  const me = { id: 1, username: "newcomer", workspaces: [{ id: WS, name: "Mine", role }] } as unknown as Me;
  useSession.setState({ status: "ready", me, workspaceId: WS, error: null });
}

const modelVar = (def: string): TemplateVariable => ({ name: "model", type: "model", default: def, required: true });

function node(id: string, type: string) {
  return { id, type, position: { x: 0, y: 0 }, data: { label: id, config: {} } };
}

function template(id: string, name: string, over: Partial<Template> = {}): Template {
  return {
    id,
    workspace: null,
    name,
    description: `${name}, described`,
    category: "demo",
    built_in: true,
    variables: [modelVar("mock/echo")],
    document: {
      schema_version: 1,
      name,
      description: "",
      settings: {},
      inputs: { topic: { type: "string", required: true } },
      nodes: [node("in", "input")],
      edges: [],
    },
    created_at: "2026-01-01T00:00:00Z",
    ...over,
  } as unknown as Template;
}

const LIVE_ONLY = template("t-live", "A needs a provider", { variables: [modelVar("openai/gpt-4o")] });
const MINE = template("t-mine", "B from my team", { built_in: false });
const DEMO = template("t-demo", "C research pipeline");
const MORE = template("t-more", "D one more");
const TEMPLATES = [LIVE_ONLY, MINE, DEMO, MORE];

const page = (results: unknown[]) => ({ body: { next: null, previous: null, results } });

function RunMarker() {
  return <div data-testid="run-page">{useParams().id}</div>;
}

function renderPage(url = "/workflows") {
  return render(
    <MemoryRouter initialEntries={[url]}>
      <Routes>
        <Route path="/workflows" element={<WorkflowsPage />} />
        <Route path="/runs/:id" element={<RunMarker />} />
      </Routes>
    </MemoryRouter>,
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("the welcome of an empty workspace", () => {
  it("offers a few templates and runs the offline demo in one click, landing on the run", async () => {
    signIn("editor");
    const calls = fakeApi({
      "GET /api/v1/workflows/": () => page([]),
      "GET /api/v1/templates/": () => ({ body: TEMPLATES }),
      "POST /api/v1/templates/t-demo/instantiate/": () => ({
        status: 201,
        body: { id: "w-9", version: 1, document: DEMO.document },
      }),
      "POST /api/v1/workflows/w-9/runs/": () => ({ status: 201, body: { id: "r-7", state: "queued" } }),
    });
    renderPage();
    const welcome = await screen.findByTestId("welcome");
    const offered = await within(welcome).findByTestId("welcome-templates");
    expect(
      within(offered)
        .getAllByRole("listitem")
        .map((li) => li.dataset.testid),
    ).toEqual(["template-t-live", "template-t-mine", "template-t-demo"]);
    expect(within(welcome).getByTestId("welcome-all-templates").getAttribute("href")).toBe("/templates");
    expect(welcome.textContent).toContain("“C research pipeline”");

    fireEvent.click(screen.getByTestId("welcome-demo-run"));
    expect((await screen.findByTestId("run-page")).textContent).toBe("r-7");
    const writes = calls.filter((c) => c.method === "POST");
    expect(writes.map((c) => [c.path, c.body])).toEqual([
      ["/api/v1/templates/t-demo/instantiate/", { workspace: WS, name: "C research pipeline (demo)", variables: {} }],
      ["/api/v1/workflows/w-9/runs/", { inputs: { topic: DEMO_TEXT }, version: 1 }],
    ]);
  });

  it("shows a refused demo where the button is, and lets the user try again", async () => {
    signIn("editor");
    fakeApi({
      "GET /api/v1/workflows/": () => page([]),
      "GET /api/v1/templates/": () => ({ body: TEMPLATES }),
      "POST /api/v1/templates/t-demo/instantiate/": () => ({
        status: 429,
        body: { code: "limit_reached", message: "This workspace has reached its workflow limit." },
      }),
    });
    renderPage();
    fireEvent.click(await screen.findByTestId("welcome-demo-run"));
    expect((await screen.findByTestId("welcome-demo-error")).textContent).toContain("reached its workflow limit");
    expect((screen.getByTestId("welcome-demo-run") as HTMLButtonElement).disabled).toBe(false);
    expect(screen.queryByTestId("run-page")).toBeNull();
  });

  it("opens the template's form from “Use template”", async () => {
    signIn("owner");
    fakeApi({
      "GET /api/v1/workflows/": () => page([]),
      "GET /api/v1/templates/": () => ({ body: TEMPLATES }),
    });
    renderPage();
    fireEvent.click(await screen.findByTestId("use-template-t-demo"));
    expect(within(screen.getByTestId("instantiate-dialog")).getByText("Use “C research pipeline”")).toBeTruthy();
  });

  it("tells a viewer why the list is empty, and offers nothing they cannot do", async () => {
    signIn("viewer");
    const calls = fakeApi({ "GET /api/v1/workflows/": () => page([]) });
    renderPage();
    const empty = await screen.findByTestId("empty-state");
    expect(empty.textContent).toContain("You are a viewer in this workspace");
    expect(screen.queryByTestId("welcome")).toBeNull();
    expect(screen.queryByTestId("welcome-demo-run")).toBeNull();
    expect(calls.some((c) => c.path.startsWith("/api/v1/templates/"))).toBe(false);
  });

  it("is not shown for a search that matches nothing, nor in a workspace with workflows", async () => {
    signIn("editor");
    const calls = fakeApi({
      "GET /api/v1/workflows/": (_b, url) =>
        url.searchParams.get("q") ? page([]) : page([{ id: "w-1", name: "Mine", version: 1, tags: [] }]),
    });
    renderPage("/workflows?q=nothing");
    expect((await screen.findByTestId("empty-state")).textContent).toContain("No workflow matches");
    expect(screen.queryByTestId("welcome")).toBeNull();
    await waitFor(() => expect(calls.length).toBe(1));

    fireEvent.change(screen.getByTestId("workflow-search"), { target: { value: "" } });
    await screen.findByTestId("workflow-row-w-1");
    expect(screen.queryByTestId("welcome")).toBeNull();
    expect(calls.some((c) => c.path.startsWith("/api/v1/templates/"))).toBe(false);
  });
});

describe("the demo's template and inputs", () => {
  it("runs a built-in template whose models are all offline", () => {
    expect(offlineDemoTemplate(TEMPLATES)?.id).toBe("t-demo");
    expect(offlineDemoTemplate([LIVE_ONLY, MINE])).toBeUndefined();
    const twoModels = template("t-two", "Two models", {
      variables: [modelVar("mock/echo"), { ...modelVar("anthropic/claude"), name: "router_model" }],
    });
    expect(offlineDemoTemplate([twoModels])).toBeUndefined();
    const noDefault = template("t-nd", "No default", {
      variables: [modelVar("mock/echo"), { name: "audience", type: "string", required: true }],
    });
    expect(offlineDemoTemplate([noDefault])).toBeUndefined();
    const waits = template("t-ask", "Asks first");
    waits.document = { ...waits.document, nodes: [...waits.document.nodes, node("gate", "approval")] };
    const calls = template("t-call", "Calls out");
    calls.document = { ...calls.document, nodes: [...calls.document.nodes, node("fetch", "http")] };
    const tools = template("t-tools", "Uses tools");
    tools.document = {
      ...tools.document,
      nodes: [{ ...node("agent", "researcher"), data: { label: "a", config: { tools: [{ kind: "mcp" }] } } }],
    };
    const loops = template("t-loop", "Runs a child");
    loops.document = { ...loops.document, nodes: [...loops.document.nodes, node("rounds", "workflow")] };
    const maps = template("t-map", "Maps a list");
    maps.document = { ...maps.document, nodes: [...maps.document.nodes, node("each", "map")] };
    expect(offlineDemoTemplate([waits, calls, tools, loops, maps, DEMO])?.id).toBe("t-demo");
  });

  it("fills only the required inputs that have no default", () => {
    const decls: Record<string, InputDecl> = {
      topic: { type: "string", required: true },
      count: { type: "integer", required: true },
      strict: { type: "boolean", required: true },
      extra: { type: "object", required: true },
      tone: { type: "string", required: true, default: "warm" },
      note: { type: "string" },
    };
    expect(demoInputs(decls)).toEqual({ topic: DEMO_TEXT, count: 1, strict: false, extra: {} });
  });
});
