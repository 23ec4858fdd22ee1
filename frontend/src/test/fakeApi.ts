import { vi } from "vitest";
import type { Credential } from "../api/types";

export type Handler = (body: unknown, url: URL) => { status?: number; body?: unknown } | undefined;

/**
 * `fetch` answering like the server from a table of `"METHOD /api/v1/path/"` handlers (the query string
 * is left out of the key and given in `url`). Records every request with its parsed body.
 */
export function fakeApi(routes: Record<string, Handler>) {
  const calls: { method: string; path: string; query: string; body: unknown }[] = [];
  const stub = vi.fn(async (input: string, init: RequestInit = {}) => {
    const url = new URL(input, "http://test");
    const method = (init.method ?? "GET").toUpperCase();
    const body = typeof init.body === "string" ? JSON.parse(init.body) : undefined;
    calls.push({ method, path: url.pathname, query: url.search, body });
    const handler = routes[`${method} ${url.pathname}`];
    const answer = handler ? handler(body, url) : { status: 404, body: { code: "not_found", message: "Not found." } };
    const status = answer?.status ?? 200;
    if (status === 204 || answer?.body === undefined) return new Response(null, { status });
    return new Response(JSON.stringify(answer.body), { status, headers: { "Content-Type": "application/json" } });
  });
  vi.stubGlobal("fetch", stub);
  return calls;
}

/** Resolves once every pending promise callback (the store's awaits) has run. */
export const settle = () => new Promise((r) => setTimeout(r, 0));

export const WS = "11111111-1111-1111-1111-111111111111";

/** A credential as owners and editors see it. */
export function credential(over: Partial<Credential> = {}): Credential {
  return {
    id: "c-1",
    workspace: WS,
    name: "Team OpenAI",
    provider: "openai",
    config: {},
    hint: "9f3a",
    is_default: false,
    created_at: "2026-01-01T00:00:00Z",
    last_used_at: null,
    ...over,
  };
}
