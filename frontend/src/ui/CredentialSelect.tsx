import { useEffect, useMemo } from "react";
import type { CredentialView } from "../api/types";
import { credentialsForModel, modelProvider } from "../workspace/models";
import { providerLabel } from "../workspace/providers";
import { useScopedWorkspace } from "../workspace/scope";
import { useWorkspaceData } from "../workspace/store";

export interface CredentialSelectProps {
  /** The node's `credential` (an id), or nothing for the workspace's default. */
  value: string | null | undefined;
  onChange: (value: string | null) => void;
  /** The model the agent calls (its own, else the workflow's default). */
  model: string | null | undefined;
  id?: string;
  testId?: string;
}

const NONE: readonly CredentialView[] = [];

function optionLabel(c: CredentialView): string {
  return c.hint ? `${c.name} (…${c.hint})` : c.name;
}

/**
 * Which of the workspace's credentials an agent's calls use: those of its model's provider, and those
 * serving any model name at their own address. Empty: the workspace's default for the provider, then
 * the operator's key.
 */
export function CredentialSelect({ value, onChange, model, id, testId }: CredentialSelectProps) {
  const workspace = useScopedWorkspace();
  const entry = useWorkspaceData((s) => (workspace ? s.credentials[workspace] : undefined));
  const loadCredentials = useWorkspaceData((s) => s.loadCredentials);
  useEffect(() => {
    if (workspace) void loadCredentials(workspace);
  }, [workspace, loadCredentials]);
  const credentials = entry?.data ?? NONE;
  const { matching, anyModel } = useMemo(() => credentialsForModel(credentials, model), [credentials, model]);
  const provider = model ? modelProvider(model) : "";
  const chosen = credentials.find((c) => c.id === value);
  const offered = chosen && (matching.includes(chosen) || anyModel.includes(chosen));
  const ready = entry?.status === "ready";

  return (
    <>
      <select
        id={id}
        value={value ?? ""}
        onChange={(e) => onChange(e.target.value || null)}
        data-testid={testId}
        aria-busy={entry?.status === "loading"}
      >
        <option value="">
          Workspace default{provider && provider !== "mock" ? ` for ${providerLabel(provider)}` : ""}
        </option>
        {value && !offered && (
          <option value={value}>
            {chosen
              ? `${optionLabel(chosen)} — ${providerLabel(chosen.provider)}`
              : ready
                ? "Deleted credential"
                : value}
          </option>
        )}
        {matching.length > 0 && (
          <optgroup label={providerLabel(provider)}>
            {matching.map((c) => (
              <option key={c.id} value={c.id}>
                {optionLabel(c)}
              </option>
            ))}
          </optgroup>
        )}
        {anyModel.length > 0 && (
          <optgroup label="Any model name, at their own address">
            {anyModel.map((c) => (
              <option key={c.id} value={c.id}>
                {optionLabel(c)} — {providerLabel(c.provider)}
              </option>
            ))}
          </optgroup>
        )}
      </select>
      {value && ready && !offered && (
        <small className="field-warning" role="status" data-testid={testId ? `${testId}-mismatch` : undefined}>
          {chosen
            ? `This credential is for ${providerLabel(chosen.provider)}, not for ${model ?? "this model"}.`
            : "This credential no longer exists in this workspace."}
        </small>
      )}
    </>
  );
}
