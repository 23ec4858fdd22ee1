import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { defaultConfig } from "../../doc/engine";
import { NODE_CATALOG, PALETTE_ORDER } from "../../doc/catalog";
import type { NodeConfig } from "../../doc/types";
import { credential, fakeApi, WS } from "../../test/fakeApi";
import { WorkspaceScope } from "../../workspace/scope";
import { useWorkspaceData } from "../../workspace/store";
import { HttpRequestEditor } from "./HttpRequestEditor";

function editor(cfg: NodeConfig, setCfg = vi.fn()) {
  render(
    <WorkspaceScope.Provider value={WS}>
      <HttpRequestEditor cfg={cfg} setCfg={setCfg} />
    </WorkspaceScope.Provider>,
  );
  return setCfg;
}

beforeEach(() => {
  useWorkspaceData.setState({ credentials: {}, models: {}, usage: {} });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("http node", () => {
  it("is in the palette with the engine's default request", () => {
    expect(PALETTE_ORDER).toContain("http");
    expect(NODE_CATALOG.http.agent).toBe(false);
    expect(defaultConfig("http")).toMatchObject({ method: "GET", side_effect: "none", response_format: "auto" });
  });

  it("edits the request and offers only http credentials", async () => {
    fakeApi({
      "GET /api/v1/credentials/": () => ({
        body: {
          next: null,
          results: [credential(), credential({ id: "c-2", name: "Orders API", provider: "http", hint: "" })],
        },
      }),
    });
    const setCfg = editor(defaultConfig("http"));
    fireEvent.change(screen.getByTestId("http-url"), { target: { value: "https://api.example.com/{{ id }}" } });
    expect(setCfg).toHaveBeenCalledWith({ url: "https://api.example.com/{{ id }}" }, "url");
    const select = screen.getByTestId("http-credential") as HTMLSelectElement;
    await waitFor(() => expect(select.options).toHaveLength(2));
    expect(select.options[1]?.textContent).toBe("Orders API");
    expect(screen.queryByTestId("http-body")).toBeNull();
    expect(screen.queryByTestId("http-compensation")).toBeNull();
  });

  it("shows the body, the idempotency key and the compensation of a reversible POST", () => {
    fakeApi({ "GET /api/v1/credentials/": () => ({ body: { next: null, results: [] } }) });
    const setCfg = editor({ ...defaultConfig("http"), method: "POST", side_effect: "reversible" });
    expect(screen.getByTestId("http-body")).toBeTruthy();
    expect(screen.getByTestId("http-idempotency-key")).toBeTruthy();
    expect(screen.getByTestId("http-compensation")).toBeTruthy();
    fireEvent.change(screen.getByTestId("http-side-effect"), { target: { value: "irreversible" } });
    expect(setCfg).toHaveBeenCalledWith({ side_effect: "irreversible", compensation: null }, "side_effect");
  });
});
