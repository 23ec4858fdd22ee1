import { useState, type FormEvent } from "react";
import { formatTime, relativeTime } from "../ui/format";
import { FormError } from "../ui/forms";
import { ListTable, RowButton } from "../ui/ListTable";
import { ListBody } from "../ui/states";
import { toast } from "../ui/toasts";
import { useFetch } from "../ui/useFetch";
import { CopyField } from "./CopyField";
import { messageOf } from "./errors";
import { SCOPES, teamApi, type NewApiToken, type Scope } from "./teamApi";

/** Lifetimes offered, in days; the server refuses one past the operator's maximum with its reason. */
export const TOKEN_LIFETIMES = [7, 30, 90, 365] as const;

export function expiryIn(days: number, now = Date.now()): string {
  return new Date(now + days * 86_400_000).toISOString();
}

/** The caller's own API tokens (for scripts): made with scopes and an expiry, the key shown once. */
export function TokensSection() {
  const tokens = useFetch("tokens", () => teamApi.tokens());
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<ReadonlySet<Scope>>(new Set<Scope>(["read"]));
  const [days, setDays] = useState<number>(90);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<NewApiToken | null>(null);

  const toggle = (scope: Scope) =>
    setScopes((s) => {
      const next = new Set(s);
      if (!next.delete(scope)) next.add(scope);
      return next;
    });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const token = await teamApi.createToken({
        name: name.trim(),
        scopes: SCOPES.map((s) => s.scope).filter((s) => scopes.has(s)),
        expires_at: expiryIn(days),
      });
      setCreated(token);
      setName("");
      // The list never holds the key: only the creation notice above does, until dismissed.
      const { key: _key, ...listed } = token;
      tokens.set((list) => [listed, ...list]);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (id: string) => {
    try {
      await teamApi.revokeToken(id);
      tokens.set((list) => list.filter((t) => t.id !== id));
      if (created?.id === id) setCreated(null);
      toast("Token revoked.", "success");
    } catch (err) {
      toast(messageOf(err), "error");
    }
  };

  const list = tokens.status === "ready" ? tokens.data : [];
  return (
    <section className="panel-section" aria-labelledby="tokens-heading" data-testid="tokens-section">
      <h2 id="tokens-heading">API tokens</h2>
      <p className="muted small">
        Yours, for scripts: <code>Authorization: Token &lt;key&gt;</code>. A token acts as you in every workspace you
        belong to, within its scopes.
      </p>
      <form onSubmit={(e) => void submit(e)} data-testid="token-form">
        <div className="field-row">
          <label className="field">
            <span>Name</span>
            <input
              value={name}
              onChange={(e) => setName(e.target.value)}
              required
              maxLength={200}
              data-testid="token-name"
            />
          </label>
          <label className="field">
            <span>Expires in</span>
            <select value={days} onChange={(e) => setDays(Number(e.target.value))} data-testid="token-expiry">
              {TOKEN_LIFETIMES.map((d) => (
                <option key={d} value={d}>
                  {d} days
                </option>
              ))}
            </select>
          </label>
        </div>
        <fieldset className="field">
          <legend className="small strong">Scopes</legend>
          {SCOPES.map(({ scope, label }) => (
            <label key={scope} className="field-inline">
              <input
                type="checkbox"
                checked={scopes.has(scope)}
                onChange={() => toggle(scope)}
                data-testid={`token-scope-${scope}`}
              />{" "}
              {label}
            </label>
          ))}
        </fieldset>
        <button
          type="submit"
          className="button button-primary"
          disabled={busy || !name.trim() || scopes.size === 0}
          data-testid="token-submit"
        >
          Create token
        </button>
      </form>
      <FormError error={error} testId="token-error" />
      {created && (
        <div className="card" role="status" style={{ marginBottom: 12 }} data-testid="token-created">
          <p>Copy the key of “{created.name}” now: it is not shown again.</p>
          <CopyField value={created.key} label="Key" testId="token-key" />
          <button
            type="button"
            className="button button-small"
            style={{ alignSelf: "flex-start" }}
            onClick={() => setCreated(null)}
          >
            Done
          </button>
        </div>
      )}
      <ListBody
        list={{ status: tokens.status, error: tokens.error, retry: tokens.retry }}
        count={list.length}
        empty={<p className="muted">No tokens.</p>}
      >
        <ListTable
          columns={["Name", "Key", "Scopes", "Expires", "Last used", <span className="sr-only">Actions</span>]}
          testId="token-list"
        >
          {list.map((t) => (
            <tr key={t.id} data-testid={`token-row-${t.id}`}>
              <td className="strong">{t.name}</td>
              <td className="mono">{t.prefix}…</td>
              <td>{t.scopes.join(", ")}</td>
              <td>{formatTime(t.expires_at)}</td>
              <td title={formatTime(t.last_used_at)}>
                {t.last_used_at ? relativeTime(t.last_used_at) : <span className="muted">never</span>}
              </td>
              <td className="actions">
                <RowButton danger onClick={() => void revoke(t.id)} testId="token-revoke">
                  Revoke
                </RowButton>
              </td>
            </tr>
          ))}
        </ListTable>
      </ListBody>
    </section>
  );
}
