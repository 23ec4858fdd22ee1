import { useId, useState, type ReactNode } from "react";
import { Field } from "./fields";

/** What is wrong with `text` as a whole number between `min` and `max`, or null. */
export function integerProblem(text: string, min: number, max: number | null): string | null {
  const n = Number(text);
  const range = max === null ? `at least ${min}` : `between ${min} and ${max}`;
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) return `A whole number ${range}.`;
  if (n < min || (max !== null && n > max)) return `Must be ${range}.`;
  return null;
}

/**
 * A whole number within bounds. A value out of them (or not a whole number) is refused: the field says
 * why and the config keeps its last valid value, so the document never holds what the engine would
 * reject. Empty is null (the engine's default), unless `required`.
 */
export function IntegerField({
  label,
  value,
  onChange,
  min,
  max = null,
  required = false,
  placeholder,
  hint,
  testId,
}: {
  label: string;
  value: number | null;
  onChange: (v: number | null) => void;
  min: number;
  max?: number | null;
  required?: boolean;
  placeholder?: string;
  hint?: ReactNode;
  testId?: string;
}) {
  const id = useId();
  // What was typed, and the value the config held then: once the config changes elsewhere (an undo),
  // the config's value is shown again.
  const [typed, setTyped] = useState<{ text: string; held: number | null } | null>(null);
  const text = typed && typed.held === value ? typed.text : value === null ? "" : String(value);
  const problem = text.trim() === "" ? (required ? "Required." : null) : integerProblem(text, min, max);
  return (
    <Field label={label} htmlFor={id} hint={hint}>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={min}
        max={max ?? undefined}
        step={1}
        value={text}
        placeholder={placeholder}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? `${id}-error` : undefined}
        onChange={(e) => {
          const raw = e.target.value;
          const next =
            raw.trim() === "" ? (required ? undefined : null) : integerProblem(raw, min, max) ? undefined : Number(raw);
          setTyped({ text: raw, held: next === undefined ? value : next });
          if (next !== undefined && next !== value) onChange(next);
        }}
        data-testid={testId}
      />
      {problem && (
        <small
          className="field-error"
          id={`${id}-error`}
          role="alert"
          data-testid={testId ? `${testId}-error` : undefined}
        >
          {problem}
        </small>
      )}
    </Field>
  );
}
