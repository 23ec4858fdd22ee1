import { useCallback } from "react";
import type { Page } from "../api/types";
import { useFetch, type FetchState } from "./useFetch";

export type PagedList<T> = Pick<FetchState<unknown>, "status" | "error"> & {
  /** The rows loaded so far: the first page, then each page "Load more" appended. */
  items: T[];
  /** The next page's URL, or null when there is none (or nothing is loaded yet). */
  next: string | null;
  /** Changes the loaded rows in place (a row pushed live, a row deleted); the same function while the key is. */
  setItems: (update: (items: T[]) => T[]) => void;
  /** Appends a page, leaving out rows already there (a row the live stream added may come again). */
  append: (page: Page<T>) => void;
  retry: () => void;
};

const NONE: never[] = [];

/**
 * A cursor-paginated list: the first page for `key` (loaded again when the key changes), the pages
 * appended after it, and a retry. `items` keeps its identity until the rows change.
 */
export function usePagedList<T extends { id: string }>(
  key: string,
  firstPage: (signal: AbortSignal) => Promise<Page<T>>,
): PagedList<T> {
  const list = useFetch<{ items: T[]; next: string | null }>(key, async (signal) => {
    const page = await firstPage(signal);
    return { items: page.results, next: page.next };
  });
  const { set } = list;
  const setItems = useCallback((update: (items: T[]) => T[]) => set((d) => ({ ...d, items: update(d.items) })), [set]);
  const append = (page: Page<T>) =>
    set((d) => ({
      items: [...d.items, ...page.results.filter((r) => !d.items.some((x) => x.id === r.id))],
      next: page.next,
    }));
  return {
    status: list.status,
    error: list.error,
    items: list.data?.items ?? NONE,
    next: list.data?.next ?? null,
    setItems,
    append,
    retry: list.retry,
  };
}
