/**
 * Same-origin JSON client: session cookie + `X-CSRFToken` (from the `csrftoken`
 * cookie) on unsafe requests. Errors become `ApiError` carrying the stable `code`.
 */
import type { ApiErrorBody, Page } from "./types";

export const API_BASE = "/api/v1/";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly body: ApiErrorBody;
  constructor(status: number, body: ApiErrorBody) {
    super(body.message || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = body.code;
    this.body = body;
  }
}

export function readCookie(
  name: string,
  cookie = typeof document === "undefined" ? "" : document.cookie,
): string | null {
  for (const part of cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return null;
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

let unauthorizedHandler: (() => void) | null = null;
/** Called on every 401 (the app sends the user to the login page). */
export function onUnauthorized(handler: (() => void) | null): void {
  unauthorizedHandler = handler;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | boolean | null | undefined>;
  signal?: AbortSignal;
  /** Return the raw Response (downloads). */
  raw?: boolean;
}

export function buildUrl(path: string, query?: RequestOptions["query"]): string {
  let url: string;
  if (/^https?:\/\//.test(path)) {
    // Pagination links are absolute; keep them same-origin.
    const u = new URL(path);
    url = u.pathname + u.search;
  } else url = path.startsWith("/") ? path : API_BASE + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null || v === "") continue;
      params.set(k, String(v));
    }
    const qs = params.toString();
    if (qs) url += (url.includes("?") ? "&" : "?") + qs;
  }
  return url;
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = (opts.method ?? (opts.body === undefined ? "GET" : "POST")).toUpperCase();
  const headers: Record<string, string> = { Accept: "application/json" };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  if (UNSAFE.has(method)) {
    const token = readCookie("csrftoken");
    if (token) headers["X-CSRFToken"] = token;
  }
  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method,
      headers,
      credentials: "same-origin",
      body: opts.body === undefined ? null : JSON.stringify(opts.body),
      signal: opts.signal ?? null,
    });
  } catch (err) {
    if ((err as Error)?.name === "AbortError") throw err;
    throw new ApiError(0, { code: "network_error", message: "The server could not be reached." });
  }
  if (res.status === 401) unauthorizedHandler?.();
  if (!res.ok) {
    let body: ApiErrorBody;
    try {
      body = (await res.json()) as ApiErrorBody;
      if (!body || typeof body.code !== "string") throw new Error("no code");
    } catch {
      body = { code: `http_${res.status}`, message: res.statusText || `HTTP ${res.status}` };
    }
    throw new ApiError(res.status, body);
  }
  if (opts.raw) return res as unknown as T;
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Lists may be paginated (`{results}`) or plain arrays; give the items either way. */
export function itemsOf<T>(data: Page<T> | T[]): T[] {
  return Array.isArray(data) ? data : (data?.results ?? []);
}

/** Follows `next` links (bounded) and concatenates the pages. */
export async function fetchAll<T>(path: string, query?: RequestOptions["query"], maxPages = 20): Promise<T[]> {
  const out: T[] = [];
  let data = await request<Page<T> | T[]>(path, query ? { query } : {});
  out.push(...itemsOf(data));
  let pages = 1;
  while (!Array.isArray(data) && data.next && pages < maxPages) {
    data = await request<Page<T> | T[]>(data.next);
    out.push(...itemsOf(data));
    pages++;
  }
  return out;
}
