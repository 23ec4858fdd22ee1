/**
 * The run view's store: the reduced event log plus the stream status. Events from
 * the socket are batched per animation frame and reduced in one `setState`.
 * Components subscribe to the smallest slice (`s.nodes[id]`, `s.edges[id]`).
 */
import { createStore, type StoreApi } from "zustand/vanilla";
import { api } from "../api/endpoints";
import { FrameBatcher, type FrameScheduler } from "./frameBatcher";
import type { RunEvent } from "./protocol";
import { applyEvents, initialRunViewState, type RunViewState } from "./runState";
import { RunEventStream, type RunStreamOptions, type SocketLike, type StreamStatus } from "./runStream";

export interface RunViewStore extends RunViewState {
  stream: StreamStatus;
  /** Why the server refused the live socket (with `stream: "refused"`). */
  streamRefusal: string | null;
  /** Count of reduced batches (diagnostics, bench). */
  batches: number;
}

export type RunViewStoreApi = StoreApi<RunViewStore>;

export function createRunViewStore(nodeIds: readonly string[] = []): RunViewStoreApi {
  return createStore<RunViewStore>(() => ({
    ...initialRunViewState(nodeIds),
    stream: "connecting",
    streamRefusal: null,
    batches: 0,
  }));
}

/** Reduces a batch into the store (one `setState`, nothing if all were duplicates). */
export function applyBatch(store: RunViewStoreApi, events: readonly RunEvent[]): void {
  const s = store.getState();
  const next = applyEvents(s, events) as RunViewStore;
  if (next !== s) store.setState({ ...next, batches: s.batches + 1 }, true);
}

export interface AttachOptions {
  createSocket?: (url: string) => SocketLike;
  fetchEvents?: RunStreamOptions["fetchEvents"];
  scheduler?: FrameScheduler;
  onError?: (err: unknown) => void;
}

/** Streams a run's events (from seq 0) into the store; returns the detach function. */
export function attachRunStream(
  store: RunViewStoreApi,
  runId: string,
  opts: AttachOptions = {},
): { stream: RunEventStream; detach: () => void } {
  const batcher = new FrameBatcher<RunEvent>((events) => applyBatch(store, events), opts.scheduler);
  const stream = new RunEventStream({
    runId,
    after: store.getState().lastSeq,
    createSocket: opts.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike),
    fetchEvents: opts.fetchEvents ?? ((id, after, limit) => api.runEvents(id, after, limit)),
    onEvents: (events) => batcher.pushAll(events),
    onStatus: (status) => store.setState({ stream: status }),
    onRefused: (refusal) => store.setState({ streamRefusal: refusal.reason }),
    ...(opts.onError ? { onError: opts.onError } : {}),
  });
  stream.start();
  return {
    stream,
    detach: () => {
      stream.close();
      batcher.flush();
      batcher.dispose();
    },
  };
}
