/**
 * Adding a credential and replacing its secret. The secret's inputs are uncontrolled password fields:
 * the value is read from the input when the form is sent and the input emptied at once, so it is never
 * in React state, in the store, or in the page's HTML (a controlled input mirrors its value into the
 * `value` attribute).
 */
import { useId, useState, type FormEvent } from "react";
import type { CredentialProvider, CredentialView } from "../api/types";
import { Dialog } from "../ui/Dialog";
import { FormError, FormFooter } from "../ui/forms";
import { toast } from "../ui/toasts";
import { PROVIDERS, providerSpec, type CredentialField } from "../workspace/providers";
import { useWorkspaceData } from "../workspace/store";

const SECRET_PREFIX = "secret.";

/** Reads the secret fields of a form and empties them (whatever happens to the request). */
export function takeSecret(form: HTMLFormElement, fields: readonly CredentialField[]): Record<string, string> {
  const secret: Record<string, string> = {};
  for (const f of fields) {
    const input = form.elements.namedItem(SECRET_PREFIX + f.key);
    if (!(input instanceof HTMLInputElement)) continue;
    const value = input.value.trim();
    input.value = "";
    if (value) secret[f.key] = value;
  }
  return secret;
}

function SecretInputs({ fields, autoFocus }: { fields: readonly CredentialField[]; autoFocus?: boolean }) {
  const id = useId();
  return (
    <>
      {fields.map((f, i) => (
        <label className="field" key={f.key} htmlFor={`${id}-${f.key}`}>
          <span>{f.label}</span>
          <input
            id={`${id}-${f.key}`}
            name={SECRET_PREFIX + f.key}
            type="password"
            autoComplete="off"
            spellCheck={false}
            required={f.required}
            data-autofocus={autoFocus && i === 0 ? true : undefined}
            data-testid={`credential-secret-${f.key}`}
          />
          <small className="muted">Write-only: it is stored encrypted and never shown again.</small>
        </label>
      ))}
    </>
  );
}

const failed = (err: unknown) =>
  `${err instanceof Error ? err.message : String(err)} The secret was cleared: enter it again to retry.`;

export function AddCredentialDialog({ workspace, onClose }: { workspace: string; onClose: () => void }) {
  const addCredential = useWorkspaceData((s) => s.addCredential);
  const ids = { provider: useId(), name: useId() };
  const [provider, setProvider] = useState<CredentialProvider>("openai");
  const [name, setName] = useState("");
  const [config, setConfig] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const spec = providerSpec(provider);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const secret = takeSecret(e.currentTarget, spec.secret);
    const filled = Object.fromEntries(
      spec.config.map((f) => [f.key, config[f.key]?.trim() ?? ""] as const).filter(([, v]) => v),
    );
    setBusy(true);
    setError(null);
    try {
      const created = await addCredential({ workspace, name: name.trim(), provider, secret, config: filled });
      toast(`Added “${created.name}”`, "success");
      onClose();
    } catch (err) {
      setError(failed(err));
      setBusy(false);
    }
  };

  return (
    <Dialog title="Add a credential" onClose={onClose} testId="credential-add-dialog">
      <form onSubmit={(e) => void submit(e)} className="form" autoComplete="off">
        <label className="field" htmlFor={ids.provider}>
          <span>Provider</span>
          <select
            id={ids.provider}
            value={provider}
            onChange={(e) => {
              setProvider(e.target.value as CredentialProvider);
              setConfig({});
            }}
            data-testid="credential-provider"
          >
            {PROVIDERS.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
              </option>
            ))}
          </select>
        </label>
        <label className="field" htmlFor={ids.name}>
          <span>Name</span>
          <input
            id={ids.name}
            value={name}
            maxLength={200}
            required
            placeholder={`${spec.label} (team)`}
            onChange={(e) => setName(e.target.value)}
            data-autofocus
            data-testid="credential-name"
          />
        </label>
        <SecretInputs fields={spec.secret} />
        {spec.config.map((f) => (
          <label className="field" key={`${provider}.${f.key}`}>
            <span>
              {f.label}
              {f.required ? "" : " (optional)"}
            </span>
            <input
              value={config[f.key] ?? ""}
              required={f.required}
              placeholder={f.placeholder}
              onChange={(e) => setConfig((c) => ({ ...c, [f.key]: e.target.value }))}
              data-testid={`credential-config-${f.key}`}
            />
            {f.hint && <small className="muted">{f.hint}</small>}
          </label>
        ))}
        <FormError error={error} testId="credential-add-error" />
        <FormFooter
          onCancel={onClose}
          submitLabel={busy ? "Adding…" : "Add credential"}
          submitDisabled={busy || !name.trim()}
          submitTestId="credential-add-submit"
        />
      </form>
    </Dialog>
  );
}

export function RotateCredentialDialog({ credential, onClose }: { credential: CredentialView; onClose: () => void }) {
  const rotateCredential = useWorkspaceData((s) => s.rotateCredential);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const spec = providerSpec(credential.provider);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const secret = takeSecret(e.currentTarget, spec.secret);
    setBusy(true);
    setError(null);
    try {
      const updated = await rotateCredential(credential, secret);
      toast(`Replaced the secret of “${updated.name}”${updated.hint ? ` (now …${updated.hint})` : ""}`, "success");
      onClose();
    } catch (err) {
      setError(failed(err));
      setBusy(false);
    }
  };

  return (
    <Dialog title={`Rotate “${credential.name}”`} onClose={onClose} testId="credential-rotate-dialog">
      <form onSubmit={(e) => void submit(e)} className="form" autoComplete="off">
        <p className="muted small">
          The new secret replaces the old one for every run from now on
          {credential.hint ? ` (the current one ends in …${credential.hint})` : ""}.
        </p>
        <SecretInputs fields={spec.secret} autoFocus />
        <FormError error={error} testId="credential-rotate-error" />
        <FormFooter
          onCancel={onClose}
          submitLabel={busy ? "Replacing…" : "Replace secret"}
          submitDisabled={busy}
          submitTestId="credential-rotate-submit"
        />
      </form>
    </Dialog>
  );
}
