/**
 * The approvals waiting for the signed-in user (`GET approvals/`): the header's "waiting for you"
 * count and the Approve / Reject buttons of a waiting node read the same list.
 */
import { create } from "zustand";
import { api } from "../api/endpoints";
import type { Approval } from "../api/types";

interface ApprovalsState {
  waiting: Approval[];
  refresh: () => Promise<void>;
}

export const useApprovals = create<ApprovalsState>((set) => ({
  waiting: [],
  refresh: async () => {
    try {
      set({ waiting: await api.approvals() });
    } catch {
      // Keep the last list: a missed refresh only delays the count until the next one.
    }
  },
}));

/** Whether the user may decide this node of this run (it waits for them). */
export function useWaitsForMe(runId: string | null, nodeId: string): boolean {
  return useApprovals((s) => s.waiting.some((a) => a.run === runId && a.node_id === nodeId));
}
