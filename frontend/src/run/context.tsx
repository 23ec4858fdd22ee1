import { createContext, useContext } from "react";
import { useStore } from "zustand";
import type { RunViewStore, RunViewStoreApi } from "../live/runStore";

export const RunStoreContext = createContext<RunViewStoreApi | null>(null);

export function useRunStoreApi(): RunViewStoreApi {
  const s = useContext(RunStoreContext);
  if (!s) throw new Error("useRunView outside a RunStoreContext");
  return s;
}

/** Subscribes to the smallest slice of the run view (e.g. `s => s.nodes[id]`). */
export function useRunView<T>(selector: (s: RunViewStore) => T): T {
  return useStore(useRunStoreApi(), selector);
}

/** Opens an edge's handoff inspector (the run page provides it; the edge's label calls it). */
export const SelectEdgeContext = createContext<((edgeId: string) => void) | null>(null);
