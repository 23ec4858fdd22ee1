import { useEffect, useRef, useState } from "react";

export type FetchState<T> =
  | { status: "loading"; data?: undefined; error?: undefined }
  | { status: "error"; error: unknown; data?: undefined }
  | { status: "ready"; data: T; error?: undefined };

/**
 * Loads `fetcher()` whenever `key` changes (aborting the previous request). The state
 * is "loading" until the result for the current key arrives, so a stale answer is
 * never shown under a new key.
 */
export function useFetch<T>(key: string | null, fetcher: (signal: AbortSignal) => Promise<T>): FetchState<T> & { set: (update: (data: T) => T) => void } {
  const [result, setResult] = useState<{ key: string; data?: T; error?: unknown; failed: boolean } | null>(null);
  const fetcherRef = useRef(fetcher);
  useEffect(() => {
    fetcherRef.current = fetcher;
  });
  useEffect(() => {
    if (key === null) return;
    const ctl = new AbortController();
    fetcherRef.current(ctl.signal).then(
      (data) => {
        if (!ctl.signal.aborted) setResult({ key, data, failed: false });
      },
      (error: unknown) => {
        if (!ctl.signal.aborted && (error as Error)?.name !== "AbortError") setResult({ key, error, failed: true });
      },
    );
    return () => ctl.abort();
  }, [key]);
  const set = (update: (data: T) => T) =>
    setResult((r) => (r && !r.failed && r.key === key ? { ...r, data: update(r.data as T) } : r));
  if (!result || result.key !== key) return { status: "loading", set };
  if (result.failed) return { status: "error", error: result.error, set };
  return { status: "ready", data: result.data as T, set };
}
