import { useCallback } from "react";
import { useSearchParams } from "react-router";

/**
 * A list page's filters, kept in the URL's query string so a filtered list can be linked to and
 * survives a reload: `filter(key)` is its value ("" when off), `setFilter(key, "")` turns it off.
 */
export function useQueryFilter() {
  const [params, setParams] = useSearchParams();
  const filter = (key: string) => params.get(key) ?? "";
  const setFilter = useCallback(
    (key: string, value: string, options?: { replace?: boolean }) =>
      setParams((p) => {
        if (value) p.set(key, value);
        else p.delete(key);
        return p;
      }, options),
    [setParams],
  );
  return { filter, setFilter };
}
