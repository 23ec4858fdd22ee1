/** The pieces every dialog form ends with: what went wrong, then Cancel and the submit button. */
import type { ReactNode } from "react";
import type { Problem } from "../doc/types";

/** A failed submit: the message, and the document's problems when the server listed them. */
export function FormError({
  error,
  problems = [],
  testId,
}: {
  error: string | null;
  problems?: Problem[];
  testId?: string;
}) {
  if (!error) return null;
  return (
    <div className="form-error" role="alert" data-testid={testId}>
      <p>{error}</p>
      {problems.length > 0 && (
        <ul>
          {problems.map((p, i) => (
            <li key={i}>
              {p.message}
              {p.node_id ? ` (node ${p.node_id})` : ""}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export interface FormFooterProps {
  onCancel: () => void;
  submitLabel: ReactNode;
  submitDisabled?: boolean;
  submitTestId?: string;
  /** Without it the button submits the surrounding form. */
  onSubmit?: () => void;
}

export function FormFooter({ onCancel, submitLabel, submitDisabled = false, submitTestId, onSubmit }: FormFooterProps) {
  return (
    <div className="form-actions">
      <button type="button" className="button" onClick={onCancel}>
        Cancel
      </button>
      <button
        type={onSubmit ? "button" : "submit"}
        className="button button-primary"
        onClick={onSubmit}
        disabled={submitDisabled}
        data-testid={submitTestId}
      >
        {submitLabel}
      </button>
    </div>
  );
}

/** The problems of one node or edge, listed in its side panel. */
export function PanelProblems({ problems, testId }: { problems: Problem[] | undefined; testId: string }) {
  if (!problems || problems.length === 0) return null;
  return (
    <ul className="panel-problems" data-testid={testId}>
      {problems.map((p, i) => (
        <li key={i} className={p.severity === "error" ? "field-error" : "field-warning"}>
          {p.field ? <code>{p.field}</code> : null} {p.message}
        </li>
      ))}
    </ul>
  );
}
