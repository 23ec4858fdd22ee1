import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, buildUrl, fetchAll, readCookie, request } from "./client";

function mockFetch(...responses: Response[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      const r = responses.shift();
      if (!r) throw new TypeError("Failed to fetch");
      return r;
    }),
  );
  return calls;
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

describe("api client", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    document.cookie = "csrftoken=; expires=Thu, 01 Jan 1970 00:00:00 GMT";
  });

  it("reads cookies", () => {
    expect(readCookie("csrftoken", "a=1; csrftoken=abc%3D; b=2")).toBe("abc=");
    expect(readCookie("x", "a=1")).toBeNull();
  });

  it("sends X-CSRFToken on unsafe requests only, same-origin credentials, JSON body", async () => {
    document.cookie = "csrftoken=tok123";
    const calls = mockFetch(json({ ok: 1 }), json({ ok: 2 }));
    await request("workflows/");
    await request("workflows/", { method: "POST", body: { name: "x" } });
    const get = calls[0]!.init.headers as Record<string, string>;
    const post = calls[1]!.init.headers as Record<string, string>;
    expect(calls[0]!.url).toBe("/api/v1/workflows/");
    expect(get["X-CSRFToken"]).toBeUndefined();
    expect(post["X-CSRFToken"]).toBe("tok123");
    expect(post["Content-Type"]).toBe("application/json");
    expect(calls[1]!.init.credentials).toBe("same-origin");
    expect(calls[1]!.init.body).toBe('{"name":"x"}');
  });

  it("turns error bodies into ApiError with the stable code", async () => {
    mockFetch(json({ code: "version_conflict", message: "changed", current_version: 4 }, 409));
    const err = await request("workflows/1/", { method: "PUT", body: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, code: "version_conflict", message: "changed" });
    expect((err as ApiError).body.current_version).toBe(4);
  });

  it("copes with non-JSON errors, network failures and 204", async () => {
    mockFetch(new Response("<html>", { status: 502, statusText: "Bad Gateway" }), new Response(null, { status: 204 }));
    await expect(request("x/")).rejects.toMatchObject({ status: 502, code: "http_502" });
    await expect(request("x/", { method: "DELETE" })).resolves.toBeUndefined();
    await expect(request("x/")).rejects.toMatchObject({ status: 0, code: "network_error" });
  });

  it("builds URLs: query params, absolute pagination links kept same-origin", () => {
    expect(buildUrl("runs/", { workflow: "w", state: "", after: 0, x: undefined })).toBe(
      "/api/v1/runs/?workflow=w&after=0",
    );
    expect(buildUrl("http://other:8000/api/v1/runs/?cursor=abc")).toBe("/api/v1/runs/?cursor=abc");
  });

  it("fetchAll follows next links and accepts plain arrays", async () => {
    mockFetch(
      json({ next: "http://h/api/v1/templates/?cursor=2", previous: null, results: [1, 2] }),
      json({ next: null, previous: null, results: [3] }),
      json([4, 5]),
    );
    await expect(fetchAll("templates/")).resolves.toEqual([1, 2, 3]);
    await expect(fetchAll("models/")).resolves.toEqual([4, 5]);
  });
});
