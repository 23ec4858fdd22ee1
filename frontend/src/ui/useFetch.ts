import { useCallback, useEffect, useRef, useState } from "react";

export type FetchState<T> =
  | { status: "loading"; data?: undefined; error?: undefined }
  | { status: "error"; error: unknown; data?: undefined }
  | { status: "ready"; data: T; error?: undefined };

export type Fetched<T> = FetchState<T> & {
  /** Changes the loaded data in place (a row pushed live, a page appended); the same function while the key is. */
  set: (update: (data: T) => T) => void;
  /** Loads the current key again (the "Try again" of an error). */
  retry: () => void;
};

/**
 * Loads `fetcher()` whenever `key` changes or `retry()` is called (aborting the previous
 * request). The state is "loading" until the result for the current key arrives, so a stale
 * answer is never shown under a new key.
 */
export function useFetch<T>(key: string | null, fetcher: (signal: AbortSignal) => Promise<T>): Fetched<T> {
  const [attempt, setAttempt] = useState(0);
  const slot = key === null ? null : `${attempt}:${key}`;
  const [result, setResult] = useState<{ slot: string; data?: T; error?: unknown; failed: boolean } | null>(null);
  const fetcherRef = useRef(fetcher);
  useEffect(() => {
    fetcherRef.current = fetcher;
  });
  useEffect(() => {
    if (slot === null) return;
    const ctl = new AbortController();
    fetcherRef.current(ctl.signal).then(
      (data) => {
        if (!ctl.signal.aborted) setResult({ slot, data, failed: false });
      },
      (error: unknown) => {
        if (!ctl.signal.aborted && (error as Error)?.name !== "AbortError") setResult({ slot, error, failed: true });
      },
    );
    return () => ctl.abort();
  }, [slot]);
  const set = useCallback(
    (update: (data: T) => T) =>
      setResult((r) => (r && !r.failed && r.slot === slot ? { ...r, data: update(r.data as T) } : r)),
    [slot],
  );
  const retry = useCallback(() => setAttempt((n) => n + 1), []);
  if (!result || result.slot !== slot) return { status: "loading", set, retry };
  if (result.failed) return { status: "error", error: result.error, set, retry };
  return { status: "ready", data: result.data as T, set, retry };
}
