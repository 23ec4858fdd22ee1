/** Who is logged in and which workspace is current. */
import { create } from "zustand";
import { ApiError } from "../api/client";
import { api } from "../api/endpoints";
import type { Me, Role } from "../api/types";

const WS_KEY = "agentloom.workspace";

export interface SessionState {
  status: "loading" | "anonymous" | "ready" | "error";
  me: Me | null;
  workspaceId: string | null;
  error: string | null;
  init(): Promise<void>;
  login(username: string, password: string): Promise<void>;
  logout(): Promise<void>;
  setWorkspace(id: string): void;
  /** Reloads `me` (after joining, creating or leaving a workspace), switching to `select` when given. */
  refresh(select?: string): Promise<void>;
  expire(): void;
}

function pickWorkspace(me: Me): string | null {
  const saved = typeof localStorage !== "undefined" ? localStorage.getItem(WS_KEY) : null;
  if (saved && me.workspaces.some((w) => w.id === saved)) return saved;
  return me.workspaces[0]?.id ?? null;
}

export const useSession = create<SessionState>((set) => ({
  status: "loading",
  me: null,
  workspaceId: null,
  error: null,

  async init() {
    set({ status: "loading", error: null });
    // The CSRF cookie and the session check in parallel (me/ is a GET: it needs no token).
    const csrf = api.csrf().catch(() => undefined); // the cookie may already be there; me/ decides
    try {
      const [me] = await Promise.all([api.me(), csrf]);
      set({ status: "ready", me, workspaceId: pickWorkspace(me) });
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) set({ status: "anonymous", me: null });
      else set({ status: "error", error: err instanceof Error ? err.message : String(err) });
    }
  },

  async login(username, password) {
    await api.csrf().catch(() => undefined);
    const me = await api.login(username, password);
    // Django rotates the CSRF token on login; fetch the fresh one.
    await api.csrf().catch(() => undefined);
    set({ status: "ready", me, workspaceId: pickWorkspace(me), error: null });
  },

  async logout() {
    try {
      await api.logout();
    } finally {
      set({ status: "anonymous", me: null });
    }
  },

  setWorkspace(id) {
    localStorage.setItem(WS_KEY, id);
    set({ workspaceId: id });
  },

  async refresh(select) {
    const me = await api.me();
    if (select) localStorage.setItem(WS_KEY, select);
    set({ me, workspaceId: pickWorkspace(me) });
  },

  expire() {
    set((s) => (s.status === "ready" ? { status: "anonymous", me: null } : s));
  },
}));

export function currentRole(s: SessionState): Role | null {
  return s.me?.workspaces.find((w) => w.id === s.workspaceId)?.role ?? null;
}

export function roleIn(s: SessionState, workspaceId: string | null | undefined): Role | null {
  return s.me?.workspaces.find((w) => w.id === workspaceId)?.role ?? null;
}
