import type { NodeState, RunState } from "../api/types";

export function StateBadge({ state, testId }: { state: RunState | NodeState | "unknown"; testId?: string }) {
  return (
    <span className={`state-badge state-${state}`} data-testid={testId} data-state={state}>
      {state}
    </span>
  );
}
