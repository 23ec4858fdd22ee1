import { useMemo, useRef, type ReactNode } from "react";
import { splitPlaceholders, validatePrompt } from "../../doc/placeholders";

export interface PromptEditorProps {
  id: string;
  value: string;
  onChange: (value: string) => void;
  rows?: number;
  declaredInputs?: readonly string[];
  inputKeys?: readonly string[];
  placeholder?: string;
  readOnly?: boolean;
  testId?: string;
}

/**
 * A textarea over a mirror that highlights `{{ … }}` placeholders (errors in red);
 * problems are listed under it.
 */
export function PromptEditor({
  id,
  value,
  onChange,
  rows = 6,
  declaredInputs,
  inputKeys,
  placeholder,
  readOnly,
  testId,
}: PromptEditorProps) {
  const mirror = useRef<HTMLDivElement>(null);
  const segments = useMemo(() => splitPlaceholders(value), [value]);
  const issues = useMemo(() => validatePrompt(value, declaredInputs, inputKeys), [value, declaredInputs, inputKeys]);
  const highlighted: ReactNode[] = segments.map((s, i) =>
    s.kind === "text" ? (
      <span key={i}>{s.text}</span>
    ) : (
      <mark key={i} className={s.kind === "unclosed" || s.error ? "ph ph-error" : "ph"}>
        {s.text}
      </mark>
    ),
  );
  const errId = `${id}-issues`;
  return (
    <div className="prompt-editor">
      <div className="prompt-wrap">
        <div className="prompt-mirror" ref={mirror} aria-hidden="true">
          {highlighted}
          {"\n"}
        </div>
        <textarea
          id={id}
          rows={rows}
          value={value}
          placeholder={placeholder}
          readOnly={readOnly}
          spellCheck={false}
          onChange={(e) => onChange(e.target.value)}
          onScroll={(e) => {
            if (mirror.current) mirror.current.scrollTop = e.currentTarget.scrollTop;
          }}
          aria-describedby={issues.length ? errId : undefined}
          aria-invalid={issues.some((x) => x.severity === "error") || undefined}
          data-testid={testId}
        />
      </div>
      {issues.length > 0 && (
        <ul className="prompt-issues" id={errId} data-testid={testId ? `${testId}-issues` : undefined}>
          {issues.map((x, i) => (
            <li key={i} className={x.severity === "error" ? "field-error" : "field-warning"}>
              {x.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
