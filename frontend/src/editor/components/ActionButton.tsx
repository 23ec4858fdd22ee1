import type { ReactNode } from "react";
import { ACTIONS, type ActionContext, type ActionId } from "../actions";
import { titleWithKeys } from "../shortcuts";

/** A toolbar button for a command of the registry: its label, keys in the tooltip, enabled state. */
export function ActionButton({
  id,
  ctx,
  testId,
  className = "button",
  children,
}: {
  id: ActionId;
  ctx: ActionContext;
  testId: string;
  className?: string;
  /** Replaces the label (e.g. while the command is busy). */
  children?: ReactNode;
}) {
  const action = ACTIONS[id];
  return (
    <button
      type="button"
      className={className}
      onClick={() => action.run(ctx)}
      disabled={!action.enabled(ctx)}
      title={titleWithKeys(id)}
      aria-label={action.label}
      data-testid={testId}
    >
      {children ?? action.label}
    </button>
  );
}
