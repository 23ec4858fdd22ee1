import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import type { Workflow } from "../api/types";
import { emptyDocument } from "../doc/engine";
import type { WorkflowDocument } from "../doc/types";
import { SaveController, saveReducer, type SaveState } from "./saveMachine";

function wf(version: number, document: WorkflowDocument = emptyDocument("theirs")): Workflow {
  return {
    id: "w1",
    workspace: "ws",
    name: document.name,
    description: "",
    tags: [],
    version,
    node_count: document.nodes.length,
    document,
    problems: [],
    created_at: "",
    updated_at: "2026-01-01T00:00:00Z",
    created_by: "a",
    updated_by: "bob",
    retention_days: null,
  };
}

const conflict = (current: number) =>
  new ApiError(409, { code: "version_conflict", message: "changed", current_version: current });

describe("saveReducer", () => {
  it("follows saved → dirty → saving → saved", () => {
    let s: SaveState = { kind: "saved", version: 1, savedAt: null };
    s = saveReducer(s, { type: "edit" });
    expect(s.kind).toBe("dirty");
    s = saveReducer(s, { type: "start", revision: 3 });
    expect(s).toEqual({ kind: "saving", version: 1, revision: 3 });
    s = saveReducer(s, { type: "ok", version: 2, dirtyAgain: false, at: 5 });
    expect(s).toEqual({ kind: "saved", version: 2, savedAt: 5 });
  });

  it("conflict → theirs → keep mine saves on their version; reload goes to saved", () => {
    const mine = emptyDocument("mine");
    let s: SaveState = { kind: "saving", version: 1, revision: 1 };
    s = saveReducer(s, { type: "conflict", currentVersion: 3, mine });
    expect(s).toMatchObject({ kind: "conflict", currentVersion: 3, theirs: null });
    s = saveReducer(s, { type: "edit" });
    expect(s.kind).toBe("conflict");
    s = saveReducer(s, { type: "theirs", theirs: wf(4) });
    expect(s).toMatchObject({ kind: "conflict", currentVersion: 4 });
    const keep = saveReducer(s, { type: "keepMine", revision: 2 });
    expect(keep).toEqual({ kind: "saving", version: 4, revision: 2 });
    const reload = saveReducer(s, { type: "reloaded", version: 4, at: 9 });
    expect(reload).toEqual({ kind: "saved", version: 4, savedAt: 9 });
  });

  it("ignores actions that do not apply", () => {
    const s: SaveState = { kind: "saved", version: 1, savedAt: null };
    expect(saveReducer(s, { type: "ok", version: 9, dirtyAgain: false, at: 0 })).toBe(s);
    expect(saveReducer(s, { type: "keepMine", revision: 0 })).toBe(s);
  });
});

describe("SaveController", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup(put: (v: number, d: WorkflowDocument) => Promise<Workflow>, theirs: Workflow = wf(5)) {
    let revision = 0;
    let doc = emptyDocument("mine");
    const loaded: Workflow[] = [];
    const puts: { version: number; document: WorkflowDocument }[] = [];
    const c = new SaveController({
      workflowId: "w1",
      version: 1,
      getDocument: () => doc,
      getRevision: () => revision,
      put: (_id, body) => {
        puts.push(body);
        return put(body.version, body.document);
      },
      get: async () => theirs,
      onLoadTheirs: (w) => loaded.push(w),
    });
    const edit = (name: string) => {
      revision++;
      doc = { ...doc, name };
      c.notifyEdit();
    };
    return { c, edit, puts, loaded };
  }

  it("debounces edits into one PUT about 2 s after the last", async () => {
    const { c, edit, puts } = setup(async (v) => wf(v + 1));
    edit("a");
    await vi.advanceTimersByTimeAsync(1500);
    edit("ab");
    await vi.advanceTimersByTimeAsync(1500);
    expect(puts).toHaveLength(0);
    expect(c.state.kind).toBe("dirty");
    await vi.advanceTimersByTimeAsync(600);
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({ version: 1, document: { name: "ab" } });
    expect(c.state).toMatchObject({ kind: "saved", version: 2 });
  });

  it("an edit during a save leads to a second save on the new version", async () => {
    let resolve!: (w: Workflow) => void;
    const { c, edit, puts } = setup((v) =>
      puts.length === 1 ? new Promise<Workflow>((r) => (resolve = r)) : Promise.resolve(wf(v + 1)),
    );
    edit("a");
    await vi.advanceTimersByTimeAsync(2000);
    expect(c.state.kind).toBe("saving");
    edit("ab");
    resolve(wf(2));
    await vi.advanceTimersByTimeAsync(0);
    expect(c.state.kind).toBe("dirty");
    await vi.advanceTimersByTimeAsync(2000);
    expect(puts.map((p) => p.version)).toEqual([1, 2]);
    expect(c.state).toMatchObject({ kind: "saved", version: 3 });
  });

  it("409 → conflict dialog with theirs → keep mine re-PUTs my document on their version", async () => {
    const { c, edit, puts } = setup(async (v) => {
      if (v === 1) throw conflict(5);
      return wf(v + 1);
    });
    edit("mine!");
    await vi.advanceTimersByTimeAsync(2000);
    expect(c.state).toMatchObject({ kind: "conflict", currentVersion: 5 });
    expect(c.state.kind === "conflict" && c.state.theirs?.version).toBe(5);
    expect(c.state.kind === "conflict" && c.state.mine.name).toBe("mine!");
    await c.keepMine();
    expect(puts.map((p) => p.version)).toEqual([1, 5]);
    expect(puts[1]!.document.name).toBe("mine!");
    expect(c.state).toMatchObject({ kind: "saved", version: 6 });
  });

  it("409 → reload theirs loads their workflow and continues from their version", async () => {
    const theirs = wf(7, emptyDocument("their doc"));
    const { c, edit, loaded, puts } = setup(async (v) => {
      if (v === 1) throw conflict(7);
      return wf(v + 1);
    }, theirs);
    edit("mine");
    await vi.advanceTimersByTimeAsync(2000);
    c.reloadTheirs();
    expect(loaded).toEqual([theirs]);
    expect(c.state).toMatchObject({ kind: "saved", version: 7 });
    edit("next");
    await vi.advanceTimersByTimeAsync(2000);
    expect(puts.at(-1)!.version).toBe(7);
  });

  it("409 → merge both: base + theirs + mine merged, loaded, saved on their version", async () => {
    const base = emptyDocument("base");
    base.nodes = [{ id: "a", type: "coder", position: { x: 0, y: 0 }, data: { label: "A", config: { prompt: "p" } } }];
    const theirDoc = structuredClone(base);
    theirDoc.nodes[0]!.data.label = "Their A";
    theirDoc.nodes.push({ id: "b", type: "reviewer", position: { x: 1, y: 1 }, data: { label: "B", config: {} } });
    let revision = 0;
    let doc = structuredClone(base);
    const merged: WorkflowDocument[] = [];
    const puts: { version: number; document: WorkflowDocument }[] = [];
    const c = new SaveController({
      workflowId: "w1",
      version: 1,
      document: base,
      getDocument: () => doc,
      getRevision: () => revision,
      put: async (_id, body) => {
        puts.push(body);
        if (body.version === 1) throw conflict(2);
        return wf(body.version + 1, body.document);
      },
      get: async () => wf(2, theirDoc),
      onLoadTheirs: () => undefined,
      onMerged: (d) => {
        merged.push(d);
        doc = d;
        revision++;
      },
    });
    doc = structuredClone(base);
    doc.nodes[0]!.data.config.prompt = "my prompt";
    revision++;
    c.notifyEdit();
    await vi.advanceTimersByTimeAsync(2000);
    expect(c.state.kind).toBe("conflict");
    expect(c.mergePreview()?.conflicts).toEqual([]);
    const r = await c.mergeBoth();
    expect(r?.document.nodes.map((n) => [n.id, n.data.label, n.data.config.prompt])).toEqual([
      ["a", "Their A", "my prompt"],
      ["b", "B", undefined],
    ]);
    expect(merged).toHaveLength(1);
    expect(puts.map((p) => p.version)).toEqual([1, 2]);
    expect(puts[1]!.document).toEqual(r!.document);
    expect(c.state).toMatchObject({ kind: "saved", version: 3 });
  });

  it("retries network errors with backoff, not validation errors", async () => {
    let fail = true;
    const { c, edit, puts } = setup(async (v) => {
      if (fail) throw new ApiError(0, { code: "network_error", message: "down" });
      return wf(v + 1);
    });
    edit("a");
    await vi.advanceTimersByTimeAsync(2000);
    expect(c.state).toMatchObject({ kind: "error", retryable: true });
    fail = false;
    await vi.advanceTimersByTimeAsync(2000);
    expect(puts).toHaveLength(2);
    expect(c.state.kind).toBe("saved");

    const bad = setup(async () => {
      throw new ApiError(400, {
        code: "invalid_document",
        message: "bad",
        problems: [{ code: "x", message: "y", severity: "error" }],
      });
    });
    bad.edit("z");
    await vi.advanceTimersByTimeAsync(2000);
    expect(bad.c.state).toMatchObject({ kind: "error", retryable: false, code: "invalid_document" });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(bad.puts).toHaveLength(1);
  });

  it("flush saves immediately and a 403 makes the editor read-only", async () => {
    const { c, edit, puts } = setup(async (v) => wf(v + 1));
    edit("a");
    await c.flush();
    expect(puts).toHaveLength(1);
    expect(c.state.kind).toBe("saved");
    const denied = setup(async () => {
      throw new ApiError(403, { code: "permission_denied", message: "viewer" });
    });
    denied.edit("x");
    await denied.c.flush();
    expect(denied.c.state.kind).toBe("readonly");
  });
});
