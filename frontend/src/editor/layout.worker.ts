/// <reference lib="webworker" />
import ELK from "elkjs/lib/elk.bundled.js";
import { runLayout, type LayoutRequest } from "./layoutCore";

const elk = new ELK();

self.onmessage = async (ev: MessageEvent<{ id: number; req: LayoutRequest }>) => {
  const { id, req } = ev.data;
  try {
    const result = await runLayout(elk, req);
    self.postMessage({ id, result });
  } catch (err) {
    self.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
};
