import type { ReactNode } from "react";

/** A toggle shown as a pill (a filter, a choice between views): pressed when `active`. */
export function Chip({
  active,
  onClick,
  className,
  testId,
  children,
}: {
  active: boolean;
  onClick: () => void;
  className?: string;
  testId?: string;
  children: ReactNode;
}) {
  return (
    <button
      type="button"
      className={`chip${className ? ` ${className}` : ""}${active ? " chip-active" : ""}`}
      aria-pressed={active}
      onClick={onClick}
      data-testid={testId}
    >
      {children}
    </button>
  );
}

/** A labelled row of chips. */
export function Chips({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="chips" role="group" aria-label={label}>
      {children}
    </div>
  );
}
