import { useEffect } from "react";
import { formatPrice, useModels } from "../session/store";

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
          {m.label || m.id}
          {m.simulated && !/simulated/i.test(m.label) ? " (simulated)" : ""} — {formatPrice(m)}
          {m.available ? "" : " — unavailable"}
        </option>
      ))}
    </select>
  );
}
