import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { useState } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { NodeConfig } from "../../doc/types";
import { fakeApi, WS } from "../../test/fakeApi";
import { WorkspaceScope } from "../../workspace/scope";
import { useLastRun } from "../lastRun";
import { ToolsEditor } from "./ToolsEditor";

const WF = "33333333-3333-3333-3333-333333333333";
const PATH = `POST /api/v1/workflows/${WF}/mcp-tools/`;
const URL = "http://127.0.0.1:8931/mcp";

/** The node's config as the editor's store would keep it: each patch merged in. */
function Harness({ initial, seen }: { initial: NodeConfig; seen: NodeConfig[] }) {
  const [cfg, setCfg] = useState(initial);
  return (
    <ToolsEditor
      cfg={cfg}
      setCfg={(patch) => {
        const next = { ...cfg, ...patch };
        seen.push(next);
        setCfg(next);
      }}
    />
  );
}

beforeEach(() => {
  useLastRun.setState({ workflowId: WF, status: "none", run: null });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("an agent's tools", () => {
  it("adds an http tool and an MCP server, bounds the calls, removes one", () => {
    const seen: NodeConfig[] = [];
    render(<Harness initial={{}} seen={seen} />);
    expect(screen.queryByTestId("agent-max-tool-calls")).toBeNull();
    fireEvent.click(screen.getByTestId("agent-tool-add-http"));
    fireEvent.change(screen.getByTestId("agent-tool-name"), { target: { value: "lookup" } });
    fireEvent.click(screen.getByTestId("agent-tool-add-mcp"));
    fireEvent.change(screen.getByTestId("agent-mcp-url"), { target: { value: URL } });
    fireEvent.change(screen.getByTestId("agent-max-tool-calls"), { target: { value: "4" } });
    const last = seen.at(-1)!;
    expect(last.max_tool_calls).toBe(4);
    expect(last.tools).toEqual([
      expect.objectContaining({ kind: "http", name: "lookup", request: { method: "GET", url: "" } }),
      { kind: "mcp", url: URL, tools: "*" },
    ]);
    fireEvent.click(within(screen.getByTestId("agent-tool-0")).getByTestId("agent-tool-remove"));
    expect(seen.at(-1)!.tools).toEqual([{ kind: "mcp", url: URL, tools: "*" }]);
  });

  it("an http tool's request is edited with the http node's editor", () => {
    const seen: NodeConfig[] = [];
    render(<Harness initial={{}} seen={seen} />);
    fireEvent.click(screen.getByTestId("agent-tool-add-http"));
    const card = screen.getByTestId("agent-tool-0");
    expect(within(card).getByTestId("http-request-editor")).toBeTruthy();
  });

  it("lists an MCP server's tools and offers the ones picked", async () => {
    const calls = fakeApi({
      [PATH]: () => ({
        body: {
          tools: [
            { name: "add", description: "Add two numbers.", input_schema: { type: "object" } },
            { name: "notes_read", description: "Read a note.", input_schema: { type: "object" } },
          ],
        },
      }),
    });
    const seen: NodeConfig[] = [];
    render(<Harness initial={{ tools: [{ kind: "mcp", url: URL, tools: "*" }] }} seen={seen} />);
    fireEvent.click(screen.getByTestId("agent-mcp-list"));
    await screen.findByTestId("agent-mcp-tools");
    expect(calls.at(-1)?.body).toEqual({ url: URL, credential: null });
    expect((screen.getByTestId("agent-mcp-tool-add") as HTMLInputElement).disabled).toBe(true);
    fireEvent.click(screen.getByTestId("agent-mcp-all"));
    fireEvent.click(screen.getByTestId("agent-mcp-tool-add"));
    await waitFor(() => expect(seen.at(-1)!.tools).toEqual([{ kind: "mcp", url: URL, tools: ["add"] }]));
  });

  it("shows a refused server with its code", async () => {
    fakeApi({
      [PATH]: () => ({ status: 400, body: { code: "egress_refused", message: "10.0.0.7 is a private address" } }),
    });
    render(<Harness initial={{ tools: [{ kind: "mcp", url: "http://10.0.0.7/mcp", tools: "*" }] }} seen={[]} />);
    fireEvent.click(screen.getByTestId("agent-mcp-list"));
    const error = await screen.findByTestId("agent-mcp-error");
    expect(error.textContent).toContain("egress_refused");
    expect(screen.queryByTestId("agent-mcp-tools")).toBeNull();
  });

  it("a workflow tool picks another workflow of the workspace, never its own", async () => {
    const calls = fakeApi({
      "GET /api/v1/workflows/": () => ({
        body: {
          count: 2,
          next: null,
          previous: null,
          results: [
            { id: WF, name: "This one" },
            { id: "w-child", name: "Shout" },
          ],
        },
      }),
    });
    const seen: NodeConfig[] = [];
    render(
      <WorkspaceScope.Provider value={WS}>
        <Harness initial={{}} seen={seen} />
      </WorkspaceScope.Provider>,
    );
    fireEvent.click(screen.getByTestId("agent-tool-add-workflow"));
    const select = screen.getByTestId("agent-tool-workflow") as HTMLSelectElement;
    await screen.findByRole("option", { name: "Shout" });
    expect(Array.from(select.options).map((o) => o.textContent)).toEqual(["Choose a workflow…", "Shout"]);
    expect(calls.at(-1)?.query).toContain(`workspace=${WS}`);
    fireEvent.change(select, { target: { value: "w-child" } });
    expect(seen.at(-1)!.tools).toEqual([expect.objectContaining({ kind: "workflow", workflow: "w-child" })]);
  });
});
