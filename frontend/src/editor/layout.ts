/** Auto-layout off the main thread: ELK runs in a module worker, loaded on first use. */
import type { LayoutRequest, LayoutResult } from "./layoutCore";

let worker: Worker | null = null;
let seq = 0;
const waiting = new Map<number, { resolve: (r: LayoutResult) => void; reject: (e: Error) => void }>();

function getWorker(): Worker | null {
  if (typeof Worker === "undefined") return null;
  if (!worker) {
    worker = new Worker(new URL("./layout.worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (ev: MessageEvent<{ id: number; result?: LayoutResult; error?: string }>) => {
      const w = waiting.get(ev.data.id);
      if (!w) return;
      waiting.delete(ev.data.id);
      if (ev.data.result) w.resolve(ev.data.result);
      else w.reject(new Error(ev.data.error ?? "Layout failed"));
    };
    worker.onerror = (ev) => {
      for (const w of waiting.values()) w.reject(new Error(ev.message || "Layout worker failed"));
      waiting.clear();
      worker?.terminate();
      worker = null;
    };
  }
  return worker;
}

export function computeLayout(req: LayoutRequest): Promise<LayoutResult> {
  const w = getWorker();
  if (!w) return Promise.reject(new Error("Auto-layout needs Web Workers."));
  const id = ++seq;
  return new Promise<LayoutResult>((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    w.postMessage({ id, req });
  });
}

export type { LayoutRequest, LayoutResult };
