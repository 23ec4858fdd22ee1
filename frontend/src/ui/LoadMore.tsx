/** The "Load more" button under a cursor-paginated list: fetches the next page and hands it over. */
import { api } from "../api/endpoints";
import type { Page } from "../api/types";
import { toast } from "./toasts";

export function LoadMore<T>({ next, onPage }: { next: string | null | undefined; onPage: (page: Page<T>) => void }) {
  if (!next) return null;
  const load = async () => {
    try {
      onPage(await api.page<T>(next));
    } catch (err) {
      toast(err instanceof Error ? err.message : String(err), "error");
    }
  };
  return (
    <button type="button" className="button load-more" onClick={() => void load()}>
      Load more
    </button>
  );
}
