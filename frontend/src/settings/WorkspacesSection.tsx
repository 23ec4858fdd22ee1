import { useState, type FormEvent } from "react";
import { useSession } from "../session/store";
import { FormError } from "../ui/forms";
import { toast } from "../ui/toasts";
import { messageOf } from "./errors";
import { teamApi } from "./teamApi";

/** The caller's workspaces: switch the current one, or create another (its creator owns it). */
export function WorkspacesSection() {
  const me = useSession((s) => s.me);
  const current = useSession((s) => s.workspaceId);
  const setWorkspace = useSession((s) => s.setWorkspace);
  const refresh = useSession((s) => s.refresh);
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await teamApi.createWorkspace(name.trim());
      await refresh(created.id);
      setName("");
      toast(`Workspace “${created.name}” created; it is now the current one.`, "success");
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel-section" aria-labelledby="workspaces-heading" data-testid="workspaces-section">
      <h2 id="workspaces-heading">Your workspaces</h2>
      <ul className="usage-list" data-testid="workspace-switcher">
        {(me?.workspaces ?? []).map((w) => (
          <li key={w.id}>
            {w.id === current ? (
              <strong aria-current="true">{w.name}</strong>
            ) : (
              <button
                type="button"
                className="button button-small button-ghost"
                onClick={() => setWorkspace(w.id)}
                data-testid={`workspace-switch-${w.id}`}
              >
                {w.name}
              </button>
            )}{" "}
            <span className="muted small">{w.role}</span>
          </li>
        ))}
      </ul>
      <form className="field-row" onSubmit={(e) => void create(e)} data-testid="workspace-create">
        <label className="field">
          <span>New workspace</span>
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
            maxLength={200}
            placeholder="Name"
            data-testid="workspace-create-name"
          />
        </label>
        <button
          type="submit"
          className="button"
          style={{ flex: "0 0 auto", marginBottom: 10 }}
          disabled={busy || !name.trim()}
          data-testid="workspace-create-submit"
        >
          Create workspace
        </button>
      </form>
      <FormError error={error} testId="workspace-create-error" />
    </section>
  );
}
