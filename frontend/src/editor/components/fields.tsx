import { useEffect, useId, useState, type ReactNode } from "react";
import type { ErrorPolicy } from "../../doc/types";

export function Field({
  label,
  children,
  hint,
  htmlFor,
}: {
  label: string;
  children: ReactNode;
  hint?: ReactNode;
  htmlFor?: string;
}) {
  return (
    <div className="field">
      <label htmlFor={htmlFor}>{label}</label>
      {children}
      {hint && <small className="muted">{hint}</small>}
    </div>
  );
}

export function NumberField({
  label,
  value,
  onChange,
  min,
  max,
  step,
  placeholder,
  testId,
  hint,
  readOnly,
}: {
  label: string;
  value: number | null | undefined;
  onChange: (v: number | null) => void;
  min?: number;
  max?: number;
  step?: number;
  placeholder?: string;
  testId?: string;
  hint?: ReactNode;
  readOnly?: boolean;
}) {
  const id = useId();
  return (
    <Field label={label} htmlFor={id} hint={hint}>
      <input
        id={id}
        type="number"
        value={value ?? ""}
        min={min}
        max={max}
        step={step}
        placeholder={placeholder}
        readOnly={readOnly}
        onChange={(e) => {
          const raw = e.target.value;
          if (raw === "") onChange(null);
          else if (Number.isFinite(Number(raw))) onChange(Number(raw));
        }}
        data-testid={testId}
      />
    </Field>
  );
}

/** A choice among `[value, label]` options; the select's value is always one of them. */
export function SelectField<V extends string>({
  label,
  value,
  options,
  onChange,
  testId,
}: {
  label: string;
  value: V;
  options: readonly (readonly [V, string])[];
  onChange: (v: V) => void;
  testId?: string;
}) {
  const id = useId();
  return (
    <Field label={label} htmlFor={id}>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as V)} data-testid={testId}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** A checkbox with its label to the right. */
export function CheckField({
  label,
  checked,
  onChange,
  testId,
}: {
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  testId?: string;
}) {
  return (
    <label className="check">
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} data-testid={testId} />
      {label}
    </label>
  );
}

/**
 * Sets some fields of an object in the document; `field` names the undo step, so that typing in one
 * field makes one step.
 */
export type Patcher<T> = (patch: Partial<T>, field: string) => void;

/** A patcher for the object under `key` of another (a node's retry, the settings' budget): `key.field`. */
export function nestedPatcher<P, K extends keyof P & string>(
  set: Patcher<P>,
  key: K,
  current: P[K],
): Patcher<NonNullable<P[K]>> {
  return (patch, field) => set({ [key]: { ...current, ...patch } } as Partial<P>, `${key}.${field}`);
}

/** The error policies (a workflow's default, a node's own) and what each does to the run. */
export const ERROR_POLICIES: readonly (readonly [ErrorPolicy, string])[] = [
  ["stop", "fail the run"],
  ["continue", "skip dependants"],
  ["fallback", "succeed with a fallback output"],
];

/** A JSON value edited as text; the value is committed when it parses. */
export function JsonField({
  label,
  value,
  onChange,
  testId,
  rows = 4,
}: {
  label: string;
  value: unknown;
  onChange: (v: unknown) => void;
  testId?: string;
  rows?: number;
}) {
  const id = useId();
  const [text, setText] = useState(() => (value === undefined ? "" : JSON.stringify(value, null, 2)));
  const [error, setError] = useState<string | null>(null);
  const [prev, setPrev] = useState(value);
  if (prev !== value) {
    // Value changed from outside (undo, other node): resync unless it is what we typed.
    setPrev(value);
    let same: boolean;
    try {
      same = JSON.stringify(JSON.parse(text)) === JSON.stringify(value);
    } catch {
      same = false;
    }
    if (!same) {
      setText(value === undefined ? "" : JSON.stringify(value, null, 2));
      setError(null);
    }
  }
  return (
    <Field label={label} htmlFor={id}>
      <textarea
        id={id}
        className="mono"
        rows={rows}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === "") {
            setError(null);
            onChange(null);
            return;
          }
          try {
            onChange(JSON.parse(e.target.value));
            setError(null);
          } catch {
            setError("Not valid JSON yet.");
          }
        }}
        aria-invalid={error ? true : undefined}
        data-testid={testId}
      />
      {error && <small className="field-error">{error}</small>}
    </Field>
  );
}

/** Calls `fn` after `ms` of quiet on `deps`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}
