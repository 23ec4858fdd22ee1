import type { ReactNode } from "react";

export function Spinner({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="state state-empty" data-testid="empty-state">
      <h3>{title}</h3>
      {children && <p>{children}</p>}
      {action}
    </div>
  );
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="state state-error" role="alert" data-testid="error-state">
      <h3>Something went wrong</h3>
      <p>{message}</p>
      {onRetry && (
        <button type="button" className="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/**
 * A fetched list's place on its page: a spinner while it loads, the error with a retry, `empty` when
 * it has no rows, else the list itself.
 */
export function ListBody({
  list,
  count,
  empty,
  children,
}: {
  list: { status: "loading" | "error" | "ready"; error?: unknown; retry: () => void };
  count: number;
  empty: ReactNode;
  children: ReactNode;
}) {
  if (list.status === "loading") return <Spinner />;
  if (list.status === "error") return <ErrorState error={list.error} onRetry={list.retry} />;
  return count === 0 ? empty : children;
}
