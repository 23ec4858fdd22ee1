import { useEffect } from "react";
import type { ModelInfo } from "../api/types";
import { formatPrice, useModels } from "../session/store";

/** "Echo (simulated)", or "GPT-4o mini — $0.15 / $0.60 per 1M tokens". */
function modelOptionLabel(m: ModelInfo): string {
  const name = m.label || m.id;
  const base = m.simulated ? (/simulated/i.test(name) ? name : `${name} (simulated)`) : `${name} — ${formatPrice(m)}`;
  return m.available ? base : `${base} — unavailable`;
}

export interface ModelSelectProps {
  value: string | null | undefined;
  onChange: (value: string | null) => void;
  /** Text of the empty option (e.g. "Workflow default (mock/echo)"); none if omitted. */
  emptyLabel?: string;
  id?: string;
  testId?: string;
}

/** Models from `GET models/`, with their price; mock models are labelled "simulated". */
export function ModelSelect({ value, onChange, emptyLabel, id, testId }: ModelSelectProps) {
  const { models, status, load } = useModels();
  useEffect(() => {
    void load();
  }, [load]);
  const known = models.some((m) => m.id === value);
  return (
    <select
      id={id}
      value={value ?? ""}
      onChange={(e) => onChange(e.target.value || null)}
      data-testid={testId}
      aria-busy={status === "loading"}
    >
      {emptyLabel !== undefined && <option value="">{emptyLabel}</option>}
      {value && !known && <option value={value}>{value} (unknown model)</option>}
      {models.map((m) => (
        <option key={m.id} value={m.id} disabled={!m.available}>
          {modelOptionLabel(m)}
        </option>
      ))}
    </select>
  );
}
