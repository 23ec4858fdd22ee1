import { useEffect, useId, useState, type ReactNode } from "react";

export function Field({ label, children, hint, htmlFor }: { label: string; children: ReactNode; hint?: ReactNode; htmlFor?: string }) {
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
