/**
 * Collects items and hands them over once per animation frame, so a burst of socket
 * messages (200 nodes streaming tokens) costs one store update and one render pass
 * per frame instead of one per message.
 */
export interface FrameScheduler {
  request(cb: () => void): unknown;
  cancel(handle: unknown): void;
}

export const animationFrameScheduler: FrameScheduler = {
  request: (cb) =>
    typeof requestAnimationFrame === "function" ? requestAnimationFrame(() => cb()) : setTimeout(cb, 16),
  cancel: (h) => {
    if (typeof cancelAnimationFrame === "function") cancelAnimationFrame(h as number);
    else clearTimeout(h as ReturnType<typeof setTimeout>);
  },
};

export class FrameBatcher<T> {
  private items: T[] = [];
  private handle: unknown = null;
  /** Number of flushes so far. */
  flushes = 0;

  constructor(
    private readonly flushTo: (items: T[]) => void,
    private readonly scheduler: FrameScheduler = animationFrameScheduler,
  ) {}

  push(...items: T[]): void {
    this.pushAll(items);
  }

  pushAll(items: readonly T[]): void {
    if (items.length === 0) return;
    for (const item of items) this.items.push(item);
    if (this.handle === null) this.handle = this.scheduler.request(() => this.flush());
  }

  /** Hands over everything now (e.g. before unmount, or in tests). */
  flush(): void {
    if (this.handle !== null) {
      this.scheduler.cancel(this.handle);
      this.handle = null;
    }
    if (this.items.length === 0) return;
    const batch = this.items;
    this.items = [];
    this.flushes++;
    this.flushTo(batch);
  }

  get size(): number {
    return this.items.length;
  }

  dispose(): void {
    if (this.handle !== null) this.scheduler.cancel(this.handle);
    this.handle = null;
    this.items = [];
  }
}
