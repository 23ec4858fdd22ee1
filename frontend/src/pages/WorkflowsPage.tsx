import { useCallback, useEffect, useMemo, useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { ApiError } from "../api/client";
import { api } from "../api/endpoints";
import type { WorkflowSummary } from "../api/types";
import { emptyDocument, type Problem } from "../doc/types";
import { currentRole, useSession } from "../session/store";
import { Dialog } from "../ui/Dialog";
import { relativeTime } from "../ui/format";
import { EmptyState, ErrorState, Spinner } from "../ui/states";
import { toast } from "../ui/toasts";
import { useFetch } from "../ui/useFetch";

export function WorkflowsPage() {
  const workspaceId = useSession((s) => s.workspaceId);
  const role = useSession(currentRole);
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const tag = params.get("tag") ?? "";
  const [search, setSearch] = useState(q);
  const [dialog, setDialog] = useState<"create" | "import" | null>(null);
  const [reload, setReload] = useState(0);
  const [seenTags, setSeenTags] = useState<string[]>([]);

  useEffect(() => {
    const t = setTimeout(() => {
      if (search !== q) {
        const p = new URLSearchParams(params);
        if (search) p.set("q", search);
        else p.delete("q");
        setParams(p, { replace: true });
      }
    }, 300);
    return () => clearTimeout(t);
  }, [search, q, params, setParams]);

  const list = useFetch<{ items: WorkflowSummary[]; next: string | null }>(JSON.stringify([workspaceId, q, tag, reload]), async (signal) => {
    const page = await api.listWorkflows({
      ...(workspaceId ? { workspace: workspaceId } : {}),
      ...(q ? { q } : {}),
      ...(tag ? { tag } : {}),
      page_size: 50,
    });
    if (!signal.aborted) {
      const found = page.results.flatMap((w) => w.tags ?? []);
      setSeenTags((s) => (found.every((t) => s.includes(t)) ? s : [...new Set([...s, ...found])]));
    }
    return { items: page.results, next: page.next };
  });
  const status = list.status;
  const items = useMemo(() => list.data?.items ?? [], [list.data]);
  const next = list.data?.next ?? null;

  const loadMore = async () => {
    if (!next) return;
    try {
      const page = await api.page<WorkflowSummary>(next);
      list.set((d) => ({ items: [...d.items, ...page.results], next: page.next }));
    } catch (err) {
      toast(err instanceof Error ? err.message : String(err), "error");
    }
  };

  const tags = useMemo(() => {
    const all = new Set(seenTags);
    for (const w of items) for (const t of w.tags ?? []) all.add(t);
    if (tag) all.add(tag);
    return [...all].sort();
  }, [items, tag, seenTags]);

  const setTag = (t: string) => {
    const p = new URLSearchParams(params);
    if (t && t !== tag) p.set("tag", t);
    else p.delete("tag");
    setParams(p);
  };

  const remove = async (w: WorkflowSummary) => {
    if (!window.confirm(`Delete “${w.name}”? Its runs and versions go with it.`)) return;
    try {
      await api.deleteWorkflow(w.id);
      list.set((d) => ({ ...d, items: d.items.filter((x) => x.id !== w.id) }));
      toast(`Deleted “${w.name}”`, "success");
    } catch (err) {
      toast(err instanceof Error ? err.message : String(err), "error");
    }
  };

  const canWrite = role !== "viewer";

  return (
    <div className="page" data-testid="workflows-page">
      <div className="page-header">
        <h1>Workflows</h1>
        <div className="toolbar-group">
          <Link className="button" to="/templates" data-testid="start-from-template">
            Start from a template
          </Link>
          <button type="button" className="button" onClick={() => setDialog("import")} disabled={!canWrite} data-testid="import-workflow">
            Import
          </button>
          <button
            type="button"
            className="button button-primary"
            onClick={() => setDialog("create")}
            disabled={!canWrite}
            data-testid="create-workflow"
          >
            New workflow
          </button>
        </div>
      </div>
      <div className="filters">
        <label className="field field-inline grow">
          <span className="sr-only">Search workflows</span>
          <input
            type="search"
            placeholder="Search by name or description"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            data-testid="workflow-search"
          />
        </label>
        {tags.length > 0 && (
          <div className="chips" role="group" aria-label="Filter by tag">
            {tags.map((t) => (
              <button
                key={t}
                type="button"
                className={`chip${t === tag ? " chip-active" : ""}`}
                aria-pressed={t === tag}
                onClick={() => setTag(t)}
              >
                {t}
              </button>
            ))}
          </div>
        )}
      </div>
      {status === "loading" && <Spinner />}
      {status === "error" && <ErrorState error={list.error} onRetry={() => setReload((n) => n + 1)} />}
      {status === "ready" && items.length === 0 && (
        <EmptyState title={q || tag ? "No workflow matches" : "No workflows yet"}>
          {q || tag
            ? "Try another search or tag."
            : "Create one from scratch, import a JSON or YAML file, or start from a template."}
        </EmptyState>
      )}
      {status === "ready" && items.length > 0 && (
        <table className="table" data-testid="workflow-list">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Tags</th>
              <th scope="col">Nodes</th>
              <th scope="col">Version</th>
              <th scope="col">Updated</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((w) => (
              <tr key={w.id} data-testid={`workflow-row-${w.id}`}>
                <td>
                  <Link to={`/workflows/${w.id}`} className="strong">
                    {w.name || "Untitled"}
                  </Link>
                  {w.description && <div className="muted small">{w.description}</div>}
                </td>
                <td>
                  {(w.tags ?? []).map((t) => (
                    <button key={t} type="button" className="chip chip-small" onClick={() => setTag(t)}>
                      {t}
                    </button>
                  ))}
                </td>
                <td>{w.node_count ?? "—"}</td>
                <td>v{w.version}</td>
                <td title={w.updated_at}>
                  {relativeTime(w.updated_at)}
                  {w.updated_by ? ` by ${w.updated_by}` : ""}
                </td>
                <td className="actions">
                  <Link className="button button-small" to={`/runs?workflow=${w.id}`}>
                    Runs
                  </Link>
                  {canWrite && (
                    <button type="button" className="button button-small button-danger" onClick={() => void remove(w)}>
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && status === "ready" && (
        <button type="button" className="button load-more" onClick={() => void loadMore()}>
          Load more
        </button>
      )}
      {dialog === "create" && <CreateDialog onClose={() => setDialog(null)} />}
      {dialog === "import" && <ImportDialog onClose={() => setDialog(null)} />}
    </div>
  );
}

function CreateDialog({ onClose }: { onClose: () => void }) {
  const workspaceId = useSession((s) => s.workspaceId);
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [tags, setTags] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      const n = name.trim() || "Untitled workflow";
      const document = { ...emptyDocument(n), description };
      const w = await api.createWorkflow({
        ...(workspaceId ? { workspace: workspaceId } : {}),
        name: n,
        description,
        tags: tags
          .split(",")
          .map((t) => t.trim())
          .filter(Boolean),
        document,
      });
      navigate(`/workflows/${w.id}`);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <Dialog title="New workflow" onClose={onClose} testId="create-dialog">
      <form onSubmit={(e) => void submit(e)} className="form">
        <label className="field">
          <span>Name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} data-autofocus data-testid="create-name" />
        </label>
        <label className="field">
          <span>Description</span>
          <textarea rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <label className="field">
          <span>Tags (comma separated)</span>
          <input value={tags} onChange={(e) => setTags(e.target.value)} />
        </label>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="form-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={busy} data-testid="create-submit">
            Create
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function ImportDialog({ onClose }: { onClose: () => void }) {
  const workspaceId = useSession((s) => s.workspaceId);
  const navigate = useNavigate();
  const [content, setContent] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [busy, setBusy] = useState(false);

  const onFile = useCallback(async (file: File | undefined) => {
    if (!file) return;
    setContent(await file.text());
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setProblems([]);
    try {
      const w = await api.importWorkflow({ ...(workspaceId ? { workspace: workspaceId } : {}), content });
      navigate(`/workflows/${w.id}`);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      if (err instanceof ApiError && Array.isArray(err.body.problems)) setProblems(err.body.problems as Problem[]);
      setBusy(false);
    }
  };

  return (
    <Dialog title="Import a workflow" onClose={onClose} wide testId="import-dialog">
      <form onSubmit={(e) => void submit(e)} className="form">
        <label className="field">
          <span>File (JSON or YAML)</span>
          <input
            type="file"
            accept=".json,.yaml,.yml,application/json,application/yaml,text/yaml"
            onChange={(e) => void onFile(e.target.files?.[0])}
            data-testid="import-file"
          />
        </label>
        <label className="field">
          <span>…or paste the document</span>
          <textarea
            rows={12}
            className="mono"
            value={content}
            onChange={(e) => setContent(e.target.value)}
            placeholder='{"schema_version": 1, "name": "…", "nodes": [], "edges": []}'
            data-testid="import-content"
          />
        </label>
        {error && (
          <div className="form-error" role="alert">
            <p>{error}</p>
            {problems.length > 0 && (
              <ul>
                {problems.map((p, i) => (
                  <li key={i}>
                    {p.message}
                    {p.node_id ? ` (node ${p.node_id})` : ""}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
        <div className="form-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={busy || !content.trim()} data-testid="import-submit">
            Import
          </button>
        </div>
      </form>
    </Dialog>
  );
}
