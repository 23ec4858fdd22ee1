/**
 * Snapshot undo/redo. Snapshots share structure with the live state (nodes and edges
 * are immutable objects), so a step costs two array references, not a deep copy.
 */
export interface HistoryState<S> {
  past: S[];
  future: S[];
  lastKey: string | null;
  lastAt: number;
}

export const HISTORY_LIMIT = 100;
/** Edits with the same key within this window (typing in a field) make one step. */
export const COALESCE_MS = 1000;

export function emptyHistory<S>(): HistoryState<S> {
  return { past: [], future: [], lastKey: null, lastAt: 0 };
}

/** Records `current` as the state to go back to before an edit; clears redo. */
export function record<S>(
  h: HistoryState<S>,
  current: S,
  key: string | null = null,
  now: number = Date.now(),
): HistoryState<S> {
  if (key !== null && key === h.lastKey && now - h.lastAt < COALESCE_MS) {
    return { ...h, future: [], lastAt: now };
  }
  const past = h.past.length >= HISTORY_LIMIT ? h.past.slice(h.past.length - HISTORY_LIMIT + 1) : h.past.slice();
  past.push(current);
  return { past, future: [], lastKey: key, lastAt: now };
}

export function undo<S>(h: HistoryState<S>, current: S): { history: HistoryState<S>; state: S } | null {
  if (h.past.length === 0) return null;
  const past = h.past.slice();
  const state = past.pop()!;
  return { history: { past, future: [...h.future, current], lastKey: null, lastAt: 0 }, state };
}

export function redo<S>(h: HistoryState<S>, current: S): { history: HistoryState<S>; state: S } | null {
  if (h.future.length === 0) return null;
  const future = h.future.slice();
  const state = future.pop()!;
  return { history: { past: [...h.past, current], future, lastKey: null, lastAt: 0 }, state };
}
