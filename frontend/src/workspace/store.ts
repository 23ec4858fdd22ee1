/**
 * What the UI knows of a workspace beyond its workflows: its credentials (never their secrets), where
 * each is used, and the models usable there. One store, keyed by workspace (or credential) id, so the
 * settings page, the model picker and an agent's credential select share one copy, and a change to the
 * credentials refreshes the models whose availability it decides.
 *
 * Secrets pass through `addCredential` / `rotateCredential` as arguments on their way to the server and
 * are never put in the state.
 */
import { create } from "zustand";
import { ApiError } from "../api/client";
import { api } from "../api/endpoints";
import type { Credential, CredentialProvider, CredentialUsage, CredentialView } from "../api/types";
import { toModelView, type ModelView } from "./models";

export interface Loadable<T> {
  status: "loading" | "ready" | "error";
  data: T | null;
  error: string | null;
}

export interface NewCredential {
  workspace: string;
  name: string;
  provider: CredentialProvider;
  secret: Record<string, string>;
  config: Record<string, string>;
}

/** A delete the server refused because workflows use the credential (409 `in_use`). */
export interface InUse {
  message: string;
  workflows: CredentialUsage[];
}

export interface WorkspaceDataState {
  /** By workspace id. */
  credentials: Record<string, Loadable<CredentialView[]>>;
  /** By workspace id. */
  models: Record<string, Loadable<ModelView[]>>;
  /** By credential id: the workflows whose current version names it. */
  usage: Record<string, Loadable<CredentialUsage[]>>;
  loadCredentials(workspace: string, opts?: { force?: boolean }): Promise<void>;
  loadModels(workspace: string, opts?: { force?: boolean }): Promise<void>;
  loadUsage(credentialId: string): Promise<void>;
  addCredential(input: NewCredential): Promise<Credential>;
  rotateCredential(credential: CredentialView, secret: Record<string, string>): Promise<Credential>;
  /** Null once deleted; what blocks it when the server refuses with `in_use`. Other errors throw. */
  deleteCredential(credential: CredentialView): Promise<InUse | null>;
}

type Slice = "credentials" | "models" | "usage";

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

function isUsageList(v: unknown): v is CredentialUsage[] {
  return Array.isArray(v) && v.every((w) => w && typeof w.id === "string" && typeof w.name === "string");
}

export const useWorkspaceData = create<WorkspaceDataState>((set, get) => {
  // The latest request per slice and key: an older answer arriving later is dropped.
  const latest = new Map<string, number>();
  let requests = 0;

  async function load<T>(slice: Slice, key: string, force: boolean, fetch: () => Promise<T>): Promise<void> {
    const current = get()[slice][key];
    if (!force && current && current.status !== "error") return;
    const ticket = ++requests;
    latest.set(`${slice}:${key}`, ticket);
    const put = (entry: Loadable<unknown>) => {
      if (latest.get(`${slice}:${key}`) === ticket) set((s) => ({ [slice]: { ...s[slice], [key]: entry } }));
    };
    // A refresh keeps showing what it had.
    put({ status: current?.data ? "ready" : "loading", data: current?.data ?? null, error: null });
    try {
      put({ status: "ready", data: await fetch(), error: null });
    } catch (err) {
      put({ status: "error", data: current?.data ?? null, error: message(err) });
    }
  }

  const setCredentials = (workspace: string, update: (list: CredentialView[]) => CredentialView[]) =>
    set((s) => {
      const entry = s.credentials[workspace];
      if (!entry?.data) return s;
      return { credentials: { ...s.credentials, [workspace]: { ...entry, data: update(entry.data) } } };
    });

  /** Availability follows the credentials: refresh the models of a workspace already shown. */
  const credentialsChanged = (workspace: string) => {
    if (get().models[workspace]) void get().loadModels(workspace, { force: true });
  };

  return {
    credentials: {},
    models: {},
    usage: {},

    loadCredentials: (workspace, opts) =>
      load("credentials", workspace, opts?.force ?? false, () => api.credentials(workspace)),

    loadModels: (workspace, opts) =>
      load("models", workspace, opts?.force ?? false, async () => (await api.models(workspace)).map(toModelView)),

    loadUsage: (credentialId) => load("usage", credentialId, true, () => api.credentialUsage(credentialId)),

    async addCredential(input) {
      const created = await api.createCredential(input);
      setCredentials(input.workspace, (list) => [...list, created]);
      credentialsChanged(input.workspace);
      return created;
    },

    async rotateCredential(credential, secret) {
      const updated = await api.rotateCredential(credential.id, secret);
      setCredentials(credential.workspace, (list) => list.map((c) => (c.id === updated.id ? updated : c)));
      return updated;
    },

    async deleteCredential(credential) {
      try {
        await api.deleteCredential(credential.id);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 409 && err.code === "in_use")) throw err;
        const workflows = isUsageList(err.body.workflows) ? err.body.workflows : [];
        set((s) => ({ usage: { ...s.usage, [credential.id]: { status: "ready", data: workflows, error: null } } }));
        return { message: err.message, workflows };
      }
      setCredentials(credential.workspace, (list) => list.filter((c) => c.id !== credential.id));
      set((s) => {
        const { [credential.id]: _gone, ...usage } = s.usage;
        return { usage };
      });
      credentialsChanged(credential.workspace);
      return null;
    },
  };
});
