import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useStore } from "zustand";
import { api } from "../api/endpoints";
import type { Workflow } from "../api/types";
import { isClipboardPayload } from "../doc/clipboard";
import { Canvas } from "../editor/components/Canvas";
import { ConflictDialog } from "../editor/components/ConflictDialog";
import { Palette } from "../editor/components/Palette";
import { ProblemsList } from "../editor/components/ProblemsList";
import { RunDialog } from "../editor/components/RunDialog";
import { ShortcutsHelp } from "../editor/components/ShortcutsHelp";
import { SidePanel } from "../editor/components/SidePanel";
import { StatsPanel } from "../editor/components/StatsPanel";
import { TriggersPanel } from "../triggers/TriggersPanel";
import { VersionsDialog } from "../editor/components/VersionsDialog";
import { useLastRun } from "../editor/lastRun";
import { computeLayout } from "../editor/layout";
import { SaveController, type SaveState } from "../editor/saveMachine";
import { ACTIONS, type ActionContext } from "../editor/actions";
import { ActionButton } from "../editor/components/ActionButton";
import { isTypingTarget, matchShortcut } from "../editor/shortcuts";
import { editorStore, useEditor } from "../editor/store";
import { roleIn, useSession } from "../session/store";
import { ErrorState, Spinner } from "../ui/states";
import { toast } from "../ui/toasts";
import { useFetch } from "../ui/useFetch";
import { takeEarly } from "../ui/preload";
import { relativeTime } from "../ui/format";
import { WorkspaceScope } from "../workspace/scope";

const EXPORT_FORMATS = ["json", "yaml"] as const;

export default function EditorPage() {
  const { id = "" } = useParams();
  const [attempt, setAttempt] = useState(0);
  // Taken from the request started at start-up when the browser opened this page (ui/preload.ts).
  const loaded = useFetch<Workflow>(
    `${id}#${attempt}`,
    (signal) => (attempt === 0 ? takeEarly<Workflow>(`workflow:${id}`) : null) ?? api.getWorkflow(id, signal),
  );

  if (loaded.status === "loading") return <Spinner label="Loading workflow…" />;
  if (loaded.status === "error") return <ErrorState error={loaded.error} onRetry={() => setAttempt((n) => n + 1)} />;
  return (
    <ReactFlowProvider>
      <Editor key={`${loaded.data.id}#${attempt}`} initial={loaded.data} />
    </ReactFlowProvider>
  );
}

function saveLabel(s: SaveState): string {
  switch (s.kind) {
    case "saved":
      return s.savedAt ? `Saved · v${s.version}` : `v${s.version}`;
    case "dirty":
      return "Unsaved changes";
    case "saving":
      return "Saving…";
    case "conflict":
      return "Conflict";
    case "error":
      return s.retryable ? "Save failed — retrying" : `Not saved: ${s.message}`;
    case "readonly":
      return "Read-only";
  }
}

function Editor({ initial }: { initial: Workflow }) {
  const navigate = useNavigate();
  const rf = useReactFlow();
  const role = useSession((s) => roleIn(s, initial.workspace));
  const readOnly = role === "viewer";
  const [info, setInfo] = useState({ updatedBy: initial.updated_by, updatedAt: initial.updated_at });
  const [dialog, setDialog] = useState<null | "run" | "versions" | "stats" | "help" | "triggers">(null);
  const [layoutBusy, setLayoutBusy] = useState(false);
  const importInput = useRef<HTMLInputElement>(null);

  const [controller] = useState(
    () =>
      new SaveController({
        workflowId: initial.id,
        version: initial.version,
        document: initial.document,
        getDocument: () => editorStore.getState().getDocument(),
        getRevision: () => editorStore.getState().revision,
        put: (wid, body) => api.putWorkflow(wid, { ...body, tags: editorStore.getState().tags }),
        get: (wid) => api.getWorkflow(wid),
        onSaved: (w) => {
          editorStore.getState().setProblems(w.problems ?? []);
          setInfo((i) => ({ ...i, updatedBy: w.updated_by, updatedAt: w.updated_at }));
        },
        onLoadTheirs: (w) => {
          editorStore.getState().loadDocument(w.document, { readOnly });
          editorStore.getState().setProblems(w.problems ?? []);
          editorStore.getState().setTags(w.tags ?? [], { silent: true });
          setInfo({ updatedBy: w.updated_by, updatedAt: w.updated_at });
        },
        onMerged: (doc, result) => {
          // Undoable: the merge is one step on top of my edits.
          editorStore.getState().loadDocument(doc, { readOnly, keepHistory: true });
          const kept = result.conflicts.length;
          toast(
            kept
              ? `Merged; ${kept} field${kept === 1 ? "" : "s"} you both changed kept as yours`
              : "Merged their changes with yours",
            "success",
          );
        },
      }),
  );
  const save = useStore(controller.store);
  // A three-way merge of the whole document: once per save state, not on every render of the page.
  const mergePreview = useMemo(() => (save.kind === "conflict" ? controller.mergePreview() : null), [controller, save]);

  // Load the document, then watch edits for auto-save.
  useEffect(() => {
    const st = editorStore.getState();
    st.loadDocument(initial.document, { readOnly });
    st.setTags(initial.tags ?? [], { silent: true });
    st.setProblems(initial.problems ?? []);
    let rev = editorStore.getState().revision;
    const unsub = editorStore.subscribe((s) => {
      if (s.revision !== rev) {
        rev = s.revision;
        controller.notifyEdit();
      }
    });
    void useLastRun.getState().load(initial.id, true);
    return () => {
      unsub();
      // Leaving the page: save what is pending now rather than in 2 s.
      void controller.flush();
    };
  }, [initial, controller, readOnly]);

  // Warn before leaving with unsaved edits.
  useEffect(() => {
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      const k = controller.state.kind;
      if (k === "dirty" || k === "saving" || k === "conflict") {
        void controller.flush();
        e.preventDefault();
      }
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    return () => window.removeEventListener("beforeunload", onBeforeUnload);
  }, [controller]);

  const prepareRun = useCallback(async () => {
    await controller.flush();
    const s = controller.state;
    if (s.kind === "conflict") throw new Error("Resolve the save conflict first.");
    if (s.kind === "error") throw new Error(s.message);
    return s.version;
  }, [controller]);

  const autoLayout = useCallback(async () => {
    const s = editorStore.getState();
    if (s.readOnly || s.nodes.length === 0) return;
    setLayoutBusy(true);
    try {
      const positions = await computeLayout({
        // Room for the streamed text a node shows in the run view.
        nodes: s.nodes.map((n) => ({
          id: n.id,
          width: n.measured?.width ?? 220,
          height: Math.max(n.measured?.height ?? 64, 110),
        })),
        edges: s.edges.map((e) => ({ id: e.id, source: e.source, target: e.target })),
      });
      editorStore.getState().setPositions(positions);
      requestAnimationFrame(() => void rf.fitView({ padding: 0.2, duration: 300, maxZoom: 1 }));
    } catch (err) {
      toast(`Auto-layout failed: ${err instanceof Error ? err.message : String(err)}`, "error");
    } finally {
      setLayoutBusy(false);
    }
  }, [rf]);

  const validate = useCallback(async () => {
    try {
      const r = await api.validate(initial.id, editorStore.getState().getDocument());
      editorStore.getState().setProblems(r.problems ?? []);
      const errors = (r.problems ?? []).filter((p) => p.severity === "error").length;
      toast(
        r.valid
          ? `Valid${r.problems?.length ? ` (${r.problems.length} warnings)` : ""}`
          : `${errors} error${errors === 1 ? "" : "s"} found`,
        r.valid ? "success" : "error",
      );
    } catch (err) {
      toast(err instanceof Error ? err.message : String(err), "error");
    }
  }, [initial.id]);

  const exportAs = useCallback(
    async (format: "json" | "yaml") => {
      const name = (editorStore.getState().meta.name || "workflow").replace(/[^\w.-]+/g, "_");
      try {
        await controller.flush();
        const res = await api.exportWorkflow(initial.id, format);
        const { downloadBlob } = await import("../doc/io");
        downloadBlob(`${name}.${format}`, await res.blob());
      } catch {
        // The server export failed (or is not there yet): export what the editor holds.
        const doc = editorStore.getState().getDocument();
        const { documentToText, downloadText } = await import("../doc/io");
        downloadText(
          `${name}.${format}`,
          documentToText(doc, format),
          format === "json" ? "application/json" : "application/yaml",
        );
      }
    },
    [controller, initial.id],
  );

  const importFile = useCallback(
    async (file: File | undefined) => {
      if (!file) return;
      try {
        const { parseDocumentText } = await import("../doc/io");
        const doc = parseDocumentText(await file.text());
        editorStore.getState().loadDocument(doc, { keepHistory: true });
        toast(`Imported ${doc.nodes.length} nodes from ${file.name} (undo to revert)`, "success");
        requestAnimationFrame(() => void rf.fitView({ padding: 0.2 }));
      } catch (err) {
        toast(err instanceof Error ? err.message : String(err), "error");
      }
    },
    [rf],
  );

  // Copy / cut / paste through the system clipboard (works across tabs).
  useEffect(() => {
    const onCopy = (e: ClipboardEvent, cut: boolean) => {
      if (isTypingTarget(e.target) || document.querySelector('[aria-modal="true"]')) return;
      if (window.getSelection()?.toString()) return;
      const st = editorStore.getState();
      const payload = cut ? st.cut() : st.copy();
      if (!payload) return;
      e.clipboardData?.setData("text/plain", JSON.stringify(payload));
      e.preventDefault();
    };
    const onPaste = (e: ClipboardEvent) => {
      if (isTypingTarget(e.target) || document.querySelector('[aria-modal="true"]')) return;
      const st = editorStore.getState();
      let payload: unknown = undefined;
      const text = e.clipboardData?.getData("text/plain");
      if (text) {
        try {
          const parsed: unknown = JSON.parse(text);
          if (isClipboardPayload(parsed)) payload = parsed;
        } catch {
          /* not ours */
        }
      }
      const pasted = st.paste(payload);
      if (pasted.length) e.preventDefault();
    };
    const copy = (e: ClipboardEvent) => onCopy(e, false);
    const cut = (e: ClipboardEvent) => onCopy(e, true);
    document.addEventListener("copy", copy);
    document.addEventListener("cut", cut);
    document.addEventListener("paste", onPaste);
    return () => {
      document.removeEventListener("copy", copy);
      document.removeEventListener("cut", cut);
      document.removeEventListener("paste", onPaste);
    };
  }, []);

  const canUndo = useEditor((s) => s.history.past.length > 0);
  const canRedo = useEditor((s) => s.history.future.length > 0);
  const nodeCount = useEditor((s) => s.nodes.length);
  const actionContext: ActionContext = {
    store: () => editorStore.getState(),
    readOnly,
    canUndo,
    canRedo,
    nodeCount,
    layoutBusy,
    save: () => void controller.flush(),
    layout: () => void autoLayout(),
    fit: () => void rf.fitView({ padding: 0.2, duration: 200 }),
    validate: () => void validate(),
    importFile: () => importInput.current?.click(),
    open: setDialog,
  };
  // The key handler is added once and reads the context of the latest render.
  const actionContextRef = useRef(actionContext);
  useEffect(() => {
    actionContextRef.current = actionContext;
  });

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTypingTarget(e.target) || document.querySelector('[aria-modal="true"]')) return;
      const id = matchShortcut(e);
      if (!id) return;
      e.preventDefault();
      const ctx = actionContextRef.current;
      if (ACTIONS[id].enabled(ctx)) ACTIONS[id].run(ctx);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  const name = useEditor((s) => s.meta.name);
  const inputs = useEditor((s) => s.meta.inputs);
  const tags = useEditor((s) => s.tags);

  return (
    <div className="editor" data-testid="editor">
      <div className="editor-toolbar" role="toolbar" aria-label="Editor">
        <Link to="/workflows" className="button button-ghost" aria-label="Back to workflows">
          ←
        </Link>
        <div className="editor-title">
          <h1 data-testid="editor-title" title={name}>
            {name || "Untitled"}
          </h1>
          <div className="editor-meta">
            <span
              className={`save-status save-${save.kind}`}
              data-testid="save-status"
              data-state={save.kind}
              aria-live="polite"
            >
              {saveLabel(save)}
            </span>
            {info.updatedBy && (
              <span className="muted small" title={info.updatedAt}>
                · {info.updatedBy}, {relativeTime(info.updatedAt)}
              </span>
            )}
            {readOnly && <span className="badge">viewer: read-only</span>}
          </div>
        </div>
        <TagsEditor tags={tags} readOnly={readOnly} onChange={(t) => editorStore.getState().setTags(t)} />
        <div className="toolbar-group">
          <ActionButton id="undo" ctx={actionContext} testId="undo" />
          <ActionButton id="redo" ctx={actionContext} testId="redo" />
          <ActionButton id="layout" ctx={actionContext} testId="auto-layout">
            {layoutBusy ? "Laying out…" : undefined}
          </ActionButton>
          <ActionButton id="validate" ctx={actionContext} testId="validate" />
          <ActionButton id="history" ctx={actionContext} testId="open-versions" />
          <ActionButton id="stats" ctx={actionContext} testId="open-stats" />
          <button type="button" className="button" onClick={() => setDialog("triggers")} data-testid="open-triggers">
            Triggers
          </button>
          <details className="menu">
            <summary className="button" data-testid="export-menu">
              Export
            </summary>
            <div className="menu-items">
              {EXPORT_FORMATS.map((format) => (
                <button
                  key={format}
                  type="button"
                  className="button button-ghost"
                  onClick={() => void exportAs(format)}
                  data-testid={`export-${format}`}
                >
                  {format.toUpperCase()}
                </button>
              ))}
            </div>
          </details>
          <ActionButton id="import" ctx={actionContext} testId="import-into" />
          <input
            ref={importInput}
            type="file"
            hidden
            accept=".json,.yaml,.yml"
            onChange={(e) => {
              void importFile(e.target.files?.[0]);
              e.target.value = "";
            }}
            data-testid="import-into-file"
          />
          <ActionButton id="help" ctx={actionContext} testId="shortcuts-button" className="button button-ghost">
            ?
          </ActionButton>
          <Link className="button" to={`/runs?workflow=${initial.id}`}>
            Runs
          </Link>
          <ActionButton id="run" ctx={actionContext} testId="run-button" className="button button-primary" />
        </div>
      </div>
      <div className="editor-body">
        <Palette />
        <div className="editor-center">
          <Canvas initialDocNodes={initial.document.nodes} />
          <Notice />
          <ProblemsList />
        </div>
        <WorkspaceScope.Provider value={initial.workspace}>
          <SidePanel />
        </WorkspaceScope.Provider>
      </div>
      {save.kind === "conflict" && (
        <ConflictDialog
          mine={save.mine}
          theirs={save.theirs}
          currentVersion={save.currentVersion}
          baseVersion={save.version}
          base={controller.baseDocument}
          merge={mergePreview}
          onReload={() => controller.reloadTheirs()}
          onKeepMine={() => void controller.keepMine()}
          onMerge={() => void controller.mergeBoth()}
        />
      )}
      {dialog === "run" && (
        <RunDialog
          workflowId={initial.id}
          inputs={inputs ?? {}}
          prepare={prepareRun}
          onStarted={(run) => navigate(`/runs/${run.id}`)}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog === "versions" && (
        <VersionsDialog
          workflowId={initial.id}
          currentVersion={save.version}
          readOnly={readOnly}
          onClose={() => setDialog(null)}
          beforeRestore={prepareRun}
          onRestored={(w) => {
            editorStore.getState().loadDocument(w.document, { readOnly, keepHistory: false });
            editorStore.getState().setProblems(w.problems ?? []);
            controller.rebase(w.version, w.document);
            toast(`Restored as v${w.version}`, "success");
          }}
        />
      )}
      {dialog === "stats" && <StatsPanel workflowId={initial.id} onClose={() => setDialog(null)} />}
      {dialog === "triggers" && (
        <TriggersPanel
          workflowId={initial.id}
          workspace={initial.workspace}
          readOnly={readOnly}
          prepare={prepareRun}
          onSaved={(saved) => {
            // The server made a version of my saved document with these targets: take it as
            // mine, so the next auto-save keeps them.
            const doc = editorStore.getState().getDocument();
            const next = { ...doc, settings: { ...doc.settings, notifications: saved.notifications } };
            editorStore.getState().loadDocument(next, { readOnly });
            controller.rebase(saved.version, next);
          }}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog === "help" && <ShortcutsHelp onClose={() => setDialog(null)} />}
    </div>
  );
}

function Notice() {
  const notice = useEditor((s) => s.notice);
  useEffect(() => {
    if (!notice) return;
    const t = setTimeout(() => editorStore.getState().setNotice(null), 6000);
    return () => clearTimeout(t);
  }, [notice]);
  if (!notice) return null;
  return (
    <div className="notice" role="alert" data-testid="connection-refused">
      {notice.text}
      <button
        type="button"
        className="icon-button"
        aria-label="Dismiss"
        onClick={() => editorStore.getState().setNotice(null)}
      >
        ×
      </button>
    </div>
  );
}

function TagsEditor({
  tags,
  readOnly,
  onChange,
}: {
  tags: string[];
  readOnly: boolean;
  onChange: (t: string[]) => void;
}) {
  const [text, setText] = useState("");
  return (
    <div className="tags-editor" aria-label="Tags" role="group">
      {tags.map((t) => (
        <span key={t} className="chip chip-small">
          {t}
          {!readOnly && (
            <button
              type="button"
              className="chip-remove"
              aria-label={`Remove tag ${t}`}
              onClick={() => onChange(tags.filter((x) => x !== t))}
            >
              ×
            </button>
          )}
        </span>
      ))}
      {!readOnly && (
        <input
          className="tag-input"
          value={text}
          placeholder="+ tag"
          aria-label="Add a tag"
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && text.trim()) {
              e.preventDefault();
              if (!tags.includes(text.trim())) onChange([...tags, text.trim()]);
              setText("");
            }
          }}
        />
      )}
    </div>
  );
}
