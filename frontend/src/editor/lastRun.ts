/** The latest run of the open workflow, for previews against real values. */
import { create } from "zustand";
import { api } from "../api/endpoints";
import type { RunDetail } from "../api/types";

interface LastRunState {
  workflowId: string | null;
  status: "idle" | "loading" | "ready" | "none" | "error";
  run: RunDetail | null;
  load(workflowId: string, force?: boolean): Promise<void>;
  outputOf(nodeId: string): { found: boolean; value: unknown };
}

export const useLastRun = create<LastRunState>((set, get) => ({
  workflowId: null,
  status: "idle",
  run: null,
  async load(workflowId, force = false) {
    const s = get();
    if (
      !force &&
      s.workflowId === workflowId &&
      (s.status === "loading" || s.status === "ready" || s.status === "none")
    )
      return;
    set({ workflowId, status: "loading", run: null });
    try {
      const page = await api.listRuns({ workflow: workflowId, page_size: 1 });
      const latest = page.results[0];
      if (!latest) {
        set({ status: "none" });
        return;
      }
      const run = await api.getRun(latest.id);
      if (get().workflowId === workflowId) set({ status: "ready", run });
    } catch {
      if (get().workflowId === workflowId) set({ status: "error" });
    }
  },
  outputOf(nodeId) {
    const n = get().run?.nodes?.find((x) => x.node_id === nodeId);
    if (!n || n.output === undefined || n.output === null) return { found: false, value: undefined };
    return { found: true, value: n.output };
  },
}));
