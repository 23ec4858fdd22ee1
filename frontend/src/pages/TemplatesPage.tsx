import { useMemo, useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { ApiError } from "../api/client";
import { api } from "../api/endpoints";
import type { Template, TemplateVariable } from "../api/types";
import { nodeTypeInfo } from "../doc/catalog";
import { useSession } from "../session/store";
import { Chip, Chips } from "../ui/Chip";
import { Dialog } from "../ui/Dialog";
import { FormError, FormFooter } from "../ui/forms";
import { ModelSelect } from "../ui/ModelSelect";
import { NodeIcon } from "../ui/NodeIcon";
import { EmptyState, ListBody } from "../ui/states";
import { useFetch } from "../ui/useFetch";

export function TemplatesPage() {
  const [picked, setPicked] = useState<Template | null>(null);
  const [category, setCategory] = useState("");
  const loaded = useFetch<Template[]>("templates", () => api.templates());
  const templates = useMemo(() => loaded.data ?? [], [loaded.data]);

  const categories = useMemo(() => [...new Set(templates.map((t) => t.category).filter(Boolean))].sort(), [templates]);
  const shown = category ? templates.filter((t) => t.category === category) : templates;

  return (
    <div className="page" data-testid="templates-page">
      <div className="page-header">
        <h1>Templates</h1>
        {categories.length > 1 && (
          <Chips label="Category">
            {["", ...categories].map((c) => (
              <Chip key={c} active={category === c} onClick={() => setCategory(c)}>
                {c || "All"}
              </Chip>
            ))}
          </Chips>
        )}
      </div>
      <ListBody list={loaded} count={shown.length} empty={<EmptyState title="No templates yet" />}>
        <ul className="card-grid" data-testid="template-list">
          {shown.map((t) => (
            <TemplateCard key={t.id} template={t} onUse={() => setPicked(t)} />
          ))}
        </ul>
      </ListBody>
      {picked && <InstantiateDialog template={picked} onClose={() => setPicked(null)} />}
    </div>
  );
}

export function TemplateCard({ template: t, onUse }: { template: Template; onUse: () => void }) {
  const doc = t.document;
  const types = [...new Set(doc.nodes.map((n) => String(n.type)))];
  return (
    <li className="card" data-testid={`template-${t.id}`}>
      <div className="card-title">
        <h2>{t.name}</h2>
        {t.built_in && <span className="badge">built-in</span>}
      </div>
      {t.category && <div className="muted small">{t.category}</div>}
      <p>{t.description}</p>
      <div className="card-icons" aria-label="Node types">
        {types.slice(0, 7).map((ty) => (
          <span key={ty} title={nodeTypeInfo(ty).title}>
            <NodeIcon type={ty} size={12} />
          </span>
        ))}
        <span className="muted small">{doc.nodes.length} nodes</span>
      </div>
      <button type="button" className="button button-primary" onClick={onUse} data-testid={`use-template-${t.id}`}>
        Use template
      </button>
    </li>
  );
}

function initialValue(v: TemplateVariable): unknown {
  if (v.default !== undefined && v.default !== null) return v.default;
  switch (v.type) {
    case "boolean":
      return false;
    case "number":
      return "";
    case "enum":
      return v.options?.[0] ?? "";
    default:
      return "";
  }
}

export function InstantiateDialog({ template, onClose }: { template: Template; onClose: () => void }) {
  const workspaceId = useSession((s) => s.workspaceId);
  const navigate = useNavigate();
  const [name, setName] = useState(template.name);
  const [values, setValues] = useState<Record<string, unknown>>(() =>
    Object.fromEntries(template.variables.map((v) => [v.name, initialValue(v)])),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const set = (k: string, v: unknown) => setValues((s) => ({ ...s, [k]: v }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    const variables: Record<string, unknown> = {};
    for (const v of template.variables) {
      let val = values[v.name];
      if (v.type === "number") {
        if (val === "" || val === null || val === undefined) val = undefined;
        else if (!Number.isFinite(Number(val))) errs[v.name] = "Enter a number.";
        else val = Number(val);
      }
      if (v.required && (val === undefined || val === "")) errs[v.name] ??= "Required.";
      if (val !== undefined) variables[v.name] = val;
    }
    setErrors(errs);
    if (Object.keys(errs).length) return;
    setBusy(true);
    setError(null);
    try {
      const w = await api.instantiate(template.id, {
        ...(workspaceId ? { workspace: workspaceId } : {}),
        name,
        variables,
      });
      navigate(`/workflows/${w.id}`);
    } catch (err) {
      setBusy(false);
      setError(err instanceof Error ? err.message : String(err));
      if (err instanceof ApiError && err.body.fields && typeof err.body.fields === "object") {
        const f = err.body.fields as Record<string, string[] | string>;
        setErrors(
          Object.fromEntries(
            Object.entries(f).map(([k, m]) => [
              k.replace(/^variables\./, ""),
              Array.isArray(m) ? m.join(" ") : String(m),
            ]),
          ),
        );
      }
    }
  };

  return (
    <Dialog title={`Use “${template.name}”`} onClose={onClose} wide testId="instantiate-dialog">
      <form className="form" onSubmit={(e) => void submit(e)}>
        <label className="field">
          <span>Workflow name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} data-autofocus />
        </label>
        {template.variables.map((v) => {
          const id = `var-${v.name}`;
          const val = values[v.name];
          return (
            <div className="field" key={v.name}>
              <label htmlFor={id}>
                {v.name}
                {v.required && <span aria-hidden="true"> *</span>}
                <span className="muted small"> ({v.type})</span>
              </label>
              {v.type === "boolean" ? (
                <input
                  id={id}
                  type="checkbox"
                  checked={Boolean(val)}
                  onChange={(e) => set(v.name, e.target.checked)}
                  data-testid={id}
                />
              ) : v.type === "number" ? (
                <input
                  id={id}
                  type="number"
                  step="any"
                  value={String(val ?? "")}
                  onChange={(e) => set(v.name, e.target.value)}
                  data-testid={id}
                />
              ) : v.type === "prompt" ? (
                <textarea
                  id={id}
                  rows={5}
                  value={String(val ?? "")}
                  onChange={(e) => set(v.name, e.target.value)}
                  data-testid={id}
                />
              ) : v.type === "enum" ? (
                <select
                  id={id}
                  value={String(val ?? "")}
                  onChange={(e) => set(v.name, e.target.value)}
                  data-testid={id}
                >
                  {(v.options ?? []).map((o) => (
                    <option key={o} value={o}>
                      {o}
                    </option>
                  ))}
                </select>
              ) : v.type === "model" ? (
                <ModelSelect
                  id={id}
                  value={String(val ?? "")}
                  onChange={(m) => set(v.name, m ?? "")}
                  emptyLabel="Choose a model"
                  testId={id}
                  // A template's model variable is checked against the catalogue only.
                  typedNames={false}
                />
              ) : (
                <input
                  id={id}
                  value={String(val ?? "")}
                  onChange={(e) => set(v.name, e.target.value)}
                  required={v.required}
                  data-testid={id}
                />
              )}
              {v.description && <small className="muted">{v.description}</small>}
              {errors[v.name] && <small className="field-error">{errors[v.name]}</small>}
            </div>
          );
        })}
        <FormError error={error} />
        <FormFooter
          onCancel={onClose}
          submitLabel="Create workflow"
          submitDisabled={busy}
          submitTestId="instantiate-submit"
        />
      </form>
    </Dialog>
  );
}
