/**
 * Start-up work for the page the browser opened, done in parallel instead of one after another:
 * the canvas pages' code (lazy chunks) and their main data request start while the session is
 * being checked. Measured on a 1,000-node workflow, this takes the editor's data request from
 * ~530 ms to ~60 ms after navigation start (bench/canvas_bench.mjs).
 */
import { createElement, lazy, type ComponentType } from "react";

type Module<P> = { default: ComponentType<P> };

/**
 * `React.lazy` with `preload()`: once the chunk is loaded the component renders directly, so
 * the page does not suspend (React 19 holds a revealed Suspense boundary back for up to 300 ms).
 */
export function preloadable<P extends object>(
  factory: () => Promise<Module<P>>,
): ComponentType<P> & { preload: () => Promise<Module<P>> } {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<Module<P>> | null = null;
  const preload = () =>
    (pending ??= factory().then(
      (m) => {
        loaded = m.default;
        return m;
      },
      (err: unknown) => {
        pending = null; // let a later render retry
        throw err;
      },
    ));
  const Lazy = lazy(preload);
  function Preloadable(props: P) {
    return loaded ? createElement(loaded, props) : createElement(Lazy, props);
  }
  return Object.assign(Preloadable, { preload });
}

/** Requests started at start-up, taken (once) by the page that needs them. */
const early = new Map<string, { at: number; promise: Promise<unknown> }>();
const EARLY_TTL_MS = 10_000;

export function startEarly<T>(key: string, request: () => Promise<T>): void {
  if (early.has(key)) return;
  const promise = request();
  promise.catch(() => undefined); // unhandled here; the taker sees the error
  early.set(key, { at: Date.now(), promise });
}

/** The early request for `key` if one was started recently (and forgets it), else null. */
export function takeEarly<T>(key: string): Promise<T> | null {
  const e = early.get(key);
  if (!e) return null;
  early.delete(key);
  return Date.now() - e.at < EARLY_TTL_MS ? (e.promise as Promise<T>) : null;
}
