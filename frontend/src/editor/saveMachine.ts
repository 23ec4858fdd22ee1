/**
 * Auto-save with optimistic concurrency.
 *
 *   saved ──edit──► dirty ──2 s quiet──► saving ──200──► saved (or dirty if edited meanwhile)
 *                                          │
 *                                          ├─409──► conflict (theirs fetched) ──reload theirs──► saved
 *                                          │                                 └─keep mine──► saving (PUT mine @ their version)
 *                                          └─error─► error ──retry / edit──► saving
 *
 * A third way out of a conflict, *merge both*, three-way merges (`doc/merge.ts`) the version my
 * edits were based on, theirs and mine, loads the result into the editor and saves it on their
 * version, so neither person's edits are lost. The controller keeps that base: the document of
 * the last version it loaded or saved.
 *
 * The transitions are a pure reducer (`saveReducer`); `SaveController` adds the timers
 * and the HTTP calls.
 */
import { createStore, type StoreApi } from "zustand/vanilla";
import { ApiError } from "../api/client";
import type { Workflow } from "../api/types";
import { mergeDocuments, type MergeResult } from "../doc/merge";
import type { Problem, WorkflowDocument } from "../doc/types";

export type SaveState =
  | { kind: "saved"; version: number; savedAt: number | null }
  | { kind: "dirty"; version: number }
  | { kind: "saving"; version: number; revision: number }
  | {
      kind: "conflict";
      version: number;
      currentVersion: number;
      mine: WorkflowDocument;
      theirs: Workflow | null;
    }
  | { kind: "error"; version: number; message: string; code: string; retryable: boolean; problems?: Problem[] }
  | { kind: "readonly"; version: number };

export type SaveAction =
  | { type: "edit" }
  | { type: "start"; revision: number }
  | { type: "ok"; version: number; dirtyAgain: boolean; at: number }
  | { type: "conflict"; currentVersion: number; mine: WorkflowDocument }
  | { type: "theirs"; theirs: Workflow }
  | { type: "reloaded"; version: number; at: number }
  | { type: "keepMine"; revision: number }
  | { type: "error"; message: string; code: string; retryable: boolean; problems?: Problem[] }
  | { type: "forbidden" };

export function saveReducer(s: SaveState, a: SaveAction): SaveState {
  switch (a.type) {
    case "edit":
      if (s.kind === "saved" || s.kind === "error") return { kind: "dirty", version: s.version };
      return s; // saving: noticed by revision at "ok"; conflict/readonly: stays
    case "start":
      if (s.kind === "dirty" || s.kind === "error") return { kind: "saving", version: s.version, revision: a.revision };
      return s;
    case "ok":
      if (s.kind !== "saving") return s;
      return a.dirtyAgain
        ? { kind: "dirty", version: a.version }
        : { kind: "saved", version: a.version, savedAt: a.at };
    case "conflict":
      if (s.kind !== "saving") return s;
      return { kind: "conflict", version: s.version, currentVersion: a.currentVersion, mine: a.mine, theirs: null };
    case "theirs":
      if (s.kind !== "conflict") return s;
      return { ...s, theirs: a.theirs, currentVersion: a.theirs.version };
    case "reloaded":
      if (s.kind !== "conflict") return s;
      return { kind: "saved", version: a.version, savedAt: a.at };
    case "keepMine":
      if (s.kind !== "conflict") return s;
      return { kind: "saving", version: s.theirs?.version ?? s.currentVersion, revision: a.revision };
    case "error":
      if (s.kind !== "saving") return s;
      return {
        kind: "error",
        version: s.version,
        message: a.message,
        code: a.code,
        retryable: a.retryable,
        ...(a.problems ? { problems: a.problems } : {}),
      };
    case "forbidden":
      return { kind: "readonly", version: s.version };
  }
}

export interface SaveDeps {
  workflowId: string;
  version: number;
  /** The document of `version` (the base of a three-way merge). */
  document?: WorkflowDocument;
  getDocument: () => WorkflowDocument;
  getRevision: () => number;
  put: (id: string, body: { version: number; document: WorkflowDocument }) => Promise<Workflow>;
  get: (id: string) => Promise<Workflow>;
  /** A save went through (problems, new version). */
  onSaved?: (w: Workflow) => void;
  /** The user chose their version: load it into the editor. */
  onLoadTheirs: (w: Workflow) => void;
  /** The user chose to merge: load the merged document into the editor (it is then saved). */
  onMerged?: (document: WorkflowDocument, result: MergeResult) => void;
  delayMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (h: unknown) => void;
  now?: () => number;
}

export class SaveController {
  readonly store: StoreApi<SaveState>;
  private timer: unknown = null;
  private inflight: Promise<void> | null = null;
  private readonly d: Required<Omit<SaveDeps, "onSaved" | "onMerged" | "document">> &
    Pick<SaveDeps, "onSaved" | "onMerged">;
  /** The document of the version my edits are based on. */
  private base: WorkflowDocument | null;
  private retryCount = 0;
  private disposed = false;

  constructor(deps: SaveDeps) {
    this.d = {
      delayMs: 2000,
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      now: () => Date.now(),
      ...deps,
    };
    this.base = deps.document ?? null;
    this.store = createStore<SaveState>(() => ({ kind: "saved", version: deps.version, savedAt: null }));
  }

  /** The document of the version my edits are based on (null if unknown). */
  get baseDocument(): WorkflowDocument | null {
    return this.base;
  }

  get state(): SaveState {
    return this.store.getState();
  }

  private dispatch(a: SaveAction): void {
    this.store.setState(saveReducer(this.store.getState(), a), true);
  }

  /** The document changed: (re)start the quiet-period timer. */
  notifyEdit(): void {
    if (this.disposed) return;
    this.dispatch({ type: "edit" });
    if (this.state.kind === "dirty") this.schedule(this.d.delayMs);
  }

  private schedule(ms: number): void {
    if (this.timer !== null) this.d.clearTimer(this.timer);
    this.timer = this.d.setTimer(() => {
      this.timer = null;
      void this.save();
    }, ms);
  }

  /** Saves now if there is anything to save; resolves once the store is settled. */
  async flush(): Promise<void> {
    if (this.timer !== null) {
      this.d.clearTimer(this.timer);
      this.timer = null;
    }
    if (this.inflight) await this.inflight;
    if (this.state.kind === "dirty" || (this.state.kind === "error" && this.state.retryable)) await this.save();
  }

  private save(): Promise<void> {
    if (this.inflight) return this.inflight;
    const s = this.state;
    if (s.kind !== "dirty" && s.kind !== "error") return Promise.resolve();
    const revision = this.d.getRevision();
    this.dispatch({ type: "start", revision });
    this.inflight = this.put(s.version, revision).finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async put(version: number, revision: number): Promise<void> {
    const document = this.d.getDocument();
    try {
      const w = await this.d.put(this.d.workflowId, { version, document });
      if (this.disposed) return;
      this.retryCount = 0;
      const dirtyAgain = this.d.getRevision() !== revision;
      this.base = w.document ?? document;
      this.dispatch({ type: "ok", version: w.version, dirtyAgain, at: this.d.now() });
      this.d.onSaved?.(w);
      if (dirtyAgain) this.schedule(this.d.delayMs);
    } catch (err) {
      if (this.disposed) return;
      if (err instanceof ApiError && err.status === 409 && err.code === "version_conflict") {
        const current = Number(err.body.current_version ?? NaN);
        this.dispatch({ type: "conflict", currentVersion: current, mine: document });
        try {
          const theirs = await this.d.get(this.d.workflowId);
          if (!this.disposed) this.dispatch({ type: "theirs", theirs });
        } catch {
          /* the dialog still offers both choices with the version number */
        }
        return;
      }
      if (err instanceof ApiError && err.status === 403) {
        this.dispatch({ type: "forbidden" });
        return;
      }
      const retryable = !(err instanceof ApiError) || err.status === 0 || err.status >= 500 || err.status === 429;
      const problems =
        err instanceof ApiError && Array.isArray(err.body.problems) ? (err.body.problems as Problem[]) : undefined;
      this.dispatch({
        type: "error",
        message: err instanceof Error ? err.message : String(err),
        code: err instanceof ApiError ? err.code : "error",
        retryable,
        ...(problems ? { problems } : {}),
      });
      if (retryable) {
        this.retryCount++;
        this.schedule(Math.min(30_000, 2000 * 2 ** (this.retryCount - 1)));
      }
    }
  }

  /** Conflict: drop my edits and load their version. */
  reloadTheirs(): void {
    const s = this.state;
    if (s.kind !== "conflict" || !s.theirs) return;
    this.base = s.theirs.document;
    this.d.onLoadTheirs(s.theirs);
    this.dispatch({ type: "reloaded", version: s.theirs.version, at: this.d.now() });
  }

  /** Conflict: what merging would give (null until their version is loaded, or without a base). */
  mergePreview(): MergeResult | null {
    const s = this.state;
    if (s.kind !== "conflict" || !s.theirs || !this.base) return null;
    return mergeDocuments(this.base, s.theirs.document, this.d.getDocument());
  }

  /** Conflict: keep both: merge theirs and mine onto the base, load it, save it on their version. */
  async mergeBoth(): Promise<MergeResult | null> {
    const result = this.mergePreview();
    if (!result) return null;
    // Loaded into the editor first, so "keep mine" then writes the merged document.
    this.d.onMerged?.(result.document, result);
    await this.keepMine();
    return result;
  }

  /** Conflict: write my document as a new version on top of theirs. */
  async keepMine(): Promise<void> {
    const s = this.state;
    if (s.kind !== "conflict") return;
    const revision = this.d.getRevision();
    if (s.theirs) this.base = s.theirs.document;
    this.dispatch({ type: "keepMine", revision });
    const version = this.state.version;
    this.inflight = this.put(version, revision).finally(() => {
      this.inflight = null;
    });
    await this.inflight;
  }

  /** After a restore or another out-of-band write, continue from this version. */
  rebase(version: number, document?: WorkflowDocument): void {
    if (document) this.base = document;
    this.store.setState({ kind: "saved", version, savedAt: this.d.now() }, true);
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== null) this.d.clearTimer(this.timer);
    this.timer = null;
  }
}
