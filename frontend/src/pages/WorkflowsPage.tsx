import { useCallback, useEffect, useMemo, useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { ApiError } from "../api/client";
import { api } from "../api/endpoints";
import type { WorkflowSummary } from "../api/types";
import { emptyDocument } from "../doc/engine";
import type { Problem } from "../doc/types";
import { currentRole, useSession } from "../session/store";
import { Chip, Chips } from "../ui/Chip";
import { Dialog } from "../ui/Dialog";
import { FormError, FormFooter } from "../ui/forms";
import { relativeTime } from "../ui/format";
import { SearchField } from "../ui/SearchField";
import { EmptyState, ListBody } from "../ui/states";
import { toast } from "../ui/toasts";
import { ListTable, RowButton } from "../ui/ListTable";
import { LoadMore } from "../ui/LoadMore";
import { usePagedList } from "../ui/usePagedList";
import { useQueryFilter } from "../ui/useQueryFilter";
import { Welcome } from "./Welcome";

const WORKFLOW_COLUMNS = ["Name", "Tags", "Nodes", "Version", "Updated", <span className="sr-only">Actions</span>];

export function WorkflowsPage() {
  const workspaceId = useSession((s) => s.workspaceId);
  const role = useSession(currentRole);
  const { filter, setFilter } = useQueryFilter();
  const q = filter("q");
  const tag = filter("tag");
  const [search, setSearch] = useState(q);
  const [dialog, setDialog] = useState<"create" | "import" | null>(null);
  const [seenTags, setSeenTags] = useState<string[]>([]);

  useEffect(() => {
    const t = setTimeout(() => {
      if (search !== q) setFilter("q", search, { replace: true });
    }, 300);
    return () => clearTimeout(t);
  }, [search, q, setFilter]);

  const list = usePagedList<WorkflowSummary>(JSON.stringify([workspaceId, q, tag]), async (signal) => {
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
    return page;
  });
  const { items } = list;

  const tags = useMemo(() => {
    const all = new Set(seenTags);
    for (const w of items) for (const t of w.tags ?? []) all.add(t);
    if (tag) all.add(tag);
    return [...all].sort();
  }, [items, tag, seenTags]);

  const setTag = (t: string) => setFilter("tag", t === tag ? "" : t);

  const remove = async (w: WorkflowSummary) => {
    if (!window.confirm(`Delete “${w.name}”? Its runs and versions go with it.`)) return;
    try {
      await api.deleteWorkflow(w.id);
      list.setItems((rows) => rows.filter((x) => x.id !== w.id));
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
          <button
            type="button"
            className="button"
            onClick={() => setDialog("import")}
            disabled={!canWrite}
            data-testid="import-workflow"
          >
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
        <SearchField
          label="Search workflows"
          placeholder="Search by name or description"
          value={search}
          onChange={setSearch}
          className="field field-inline grow"
          testId="workflow-search"
        />
        {tags.length > 0 && (
          <Chips label="Filter by tag">
            {tags.map((t) => (
              <Chip key={t} active={t === tag} onClick={() => setTag(t)}>
                {t}
              </Chip>
            ))}
          </Chips>
        )}
      </div>
      <ListBody
        list={list}
        count={items.length}
        empty={
          q || tag ? (
            <EmptyState title="No workflow matches">Try another search or tag.</EmptyState>
          ) : (
            <Welcome canWrite={canWrite} />
          )
        }
      >
        <ListTable columns={WORKFLOW_COLUMNS} testId="workflow-list">
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
                  <RowButton danger onClick={() => void remove(w)}>
                    Delete
                  </RowButton>
                )}
              </td>
            </tr>
          ))}
        </ListTable>
      </ListBody>
      <LoadMore<WorkflowSummary> next={list.next} onPage={list.append} />
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
        <FormError error={error} />
        <FormFooter onCancel={onClose} submitLabel="Create" submitDisabled={busy} submitTestId="create-submit" />
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
        <FormError error={error} problems={problems} />
        <FormFooter
          onCancel={onClose}
          submitLabel="Import"
          submitDisabled={busy || !content.trim()}
          submitTestId="import-submit"
        />
      </form>
    </Dialog>
  );
}
