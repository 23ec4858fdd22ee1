import { useEffect, useMemo, useState } from "react";
import { Link } from "react-router";
import type { CredentialView } from "../api/types";
import {
  groupModels,
  modelOptionLabel,
  modelProvider,
  servedNameProblem,
  servedProviders,
  servesAnyName,
  type ModelView,
} from "../workspace/models";
import { providerLabel } from "../workspace/providers";
import { useScopedWorkspace } from "../workspace/scope";
import { useWorkspaceData } from "../workspace/store";

export interface ModelSelectProps {
  value: string | null | undefined;
  onChange: (value: string | null) => void;
  /** Text of the empty option (e.g. "Workflow default (mock/echo)"); none if omitted. */
  emptyLabel?: string;
  id?: string;
  testId?: string;
  /**
   * Offer typing a model name for a credential that serves any (default on). Off where only the
   * catalogue's names are accepted: a template's model variable is checked without a workspace.
   */
  typedNames?: boolean;
}

const NONE: readonly ModelView[] = [];
const NO_CREDENTIALS: readonly CredentialView[] = [];
// The value of the option "a name typed for <provider>"; a model id never starts with it.
const TYPED = "typed:";

/**
 * The models of the workspace in scope (`GET models/?workspace=`), grouped by provider: the usable ones
 * with their price and where their key comes from, the others disabled with the reason. Mock models
 * are labelled "simulated". With a credential that serves any name (`openai_compatible`, `azure`), a
 * name the catalog cannot list may be typed: `<provider>/<name>`, checked as the server checks it.
 */
export function ModelSelect({ value, onChange, emptyLabel, id, testId, typedNames = true }: ModelSelectProps) {
  const workspace = useScopedWorkspace();
  const entry = useWorkspaceData((s) => (workspace ? s.models[workspace] : undefined));
  const credentialsEntry = useWorkspaceData((s) => (workspace ? s.credentials[workspace] : undefined));
  const loadModels = useWorkspaceData((s) => s.loadModels);
  const loadCredentials = useWorkspaceData((s) => s.loadCredentials);
  useEffect(() => {
    if (workspace) {
      void loadModels(workspace);
      void loadCredentials(workspace);
    }
  }, [workspace, loadModels, loadCredentials]);
  const models = entry?.data ?? NONE;
  const credentials = credentialsEntry?.data ?? NO_CREDENTIALS;
  const groups = useMemo(() => groupModels(models), [models]);
  const selected = models.find((m) => m.id === value);
  const ready = entry?.status === "ready";
  // A typed name already in the document; its provider stays offered even without a credential left.
  const valueProvider =
    typedNames && value && !selected && servesAnyName(modelProvider(value)) ? modelProvider(value) : null;
  const typable = useMemo(() => {
    const providers = typedNames ? servedProviders(credentials) : [];
    return valueProvider && !providers.includes(valueProvider) ? [...providers, valueProvider] : providers;
  }, [credentials, valueProvider, typedNames]);
  // "Type a name" picked, nothing typed yet: it holds until the value changes.
  const [picked, setPicked] = useState<{ provider: string; at: string | null | undefined } | null>(null);
  const typing = picked && picked.at === value ? picked.provider : valueProvider;

  return (
    <>
      <select
        id={id}
        value={typing ? `${TYPED}${typing}` : (value ?? "")}
        onChange={(e) => {
          const chosen = e.target.value;
          if (chosen.startsWith(TYPED)) {
            setPicked({ provider: chosen.slice(TYPED.length), at: value });
          } else {
            setPicked(null);
            onChange(chosen || null);
          }
        }}
        data-testid={testId}
        aria-busy={entry?.status === "loading"}
      >
        {emptyLabel !== undefined && <option value="">{emptyLabel}</option>}
        {value && !selected && !typing && <option value={value}>{ready ? `${value} (unknown model)` : value}</option>}
        {groups.map((g) => (
          <optgroup key={g.provider} label={g.label} data-provider={g.provider}>
            {g.models.map((m) => (
              <option
                key={m.id}
                value={m.id}
                disabled={!m.available}
                title={m.reason ?? undefined}
                className={m.available ? undefined : "option-unavailable"}
              >
                {modelOptionLabel(m)}
              </option>
            ))}
          </optgroup>
        ))}
        {typable.length > 0 && (
          <optgroup label="Any model name, at a credential's address">
            {typable.map((provider) => (
              <option key={provider} value={`${TYPED}${provider}`}>
                Type a model name served by {providerLabel(provider)}…
              </option>
            ))}
          </optgroup>
        )}
      </select>
      {typing && (
        <ServedModelName
          provider={typing}
          name={valueProvider === typing && value ? value.slice(typing.length + 1) : ""}
          onChange={(name) => onChange(`${typing}/${name}`)}
          testId={testId ? `${testId}-served` : undefined}
        />
      )}
      {selected && !selected.available && (
        <small className="field-warning" role="status" data-testid={testId ? `${testId}-unavailable` : undefined}>
          Not usable in this workspace{selected.reason ? `: ${selected.reason}` : ""}.{" "}
          <Link to="/settings/credentials">Add a credential</Link>
        </small>
      )}
      {entry?.status === "error" && (
        <small className="field-error" role="alert">
          The models could not be loaded: {entry.error}
        </small>
      )}
    </>
  );
}

interface ServedModelNameProps {
  provider: string;
  /** The name in the document (without the provider); "" when none is typed yet. */
  name: string;
  /** Called with each well-formed name typed; a malformed one stays here, with the reason. */
  onChange: (name: string) => void;
  testId?: string;
}

/** The name a server behind a credential is asked for: what vLLM or Ollama serve, or an Azure deployment. */
function ServedModelName({ provider, name, onChange, testId }: ServedModelNameProps) {
  const [draft, setDraft] = useState(name);
  // The document changed underneath (undo, another tab): show its name again.
  const [shown, setShown] = useState(name);
  if (name !== shown) {
    setShown(name);
    setDraft(name);
  }
  const problem = draft === "" ? null : servedNameProblem(draft);
  return (
    <>
      <input
        value={draft}
        onChange={(e) => {
          setDraft(e.target.value);
          if (servedNameProblem(e.target.value) === null) onChange(e.target.value);
        }}
        aria-label={`Model name served by ${providerLabel(provider)}`}
        aria-invalid={problem !== null}
        placeholder={provider === "azure" ? "deployment name" : "e.g. meta-llama/Llama-3.1-8B-Instruct"}
        spellCheck={false}
        autoComplete="off"
        data-testid={testId}
      />
      {problem && (
        <small className="field-error" role="alert" data-testid={testId ? `${testId}-problem` : undefined}>
          {problem}
        </small>
      )}
    </>
  );
}
