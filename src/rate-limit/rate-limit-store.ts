/** The count of one key in its current window, after this hit. */
export interface WindowCount {
  count: number;
  /** Milliseconds until the window (and the count) resets. */
  resetInMs: number;
}

/** Counts hits per key in fixed windows: `hit` increments each key and returns the counts, in order. */
export interface RateLimitStore {
  hit(keys: readonly string[], windowMs: number): WindowCount[] | Promise<WindowCount[]>;
}

const SWEEP_EVERY_HITS = 10_000;

/**
 * This replica's memory: exact for one replica, per-replica when there are several (then set
 * REDIS_URL). Synchronous and allocation-light, so the hot path costs a Map lookup per key.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private hitsSinceSweep = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxKeys = Number.POSITIVE_INFINITY,
  ) {}

  hit(keys: readonly string[], windowMs: number): WindowCount[] {
    const now = this.now();
    if (++this.hitsSinceSweep >= SWEEP_EVERY_HITS) this.sweep(now);
    return keys.map((key) => {
      let window = this.windows.get(key);
      if (!window || window.resetAt <= now) {
        // A new window goes to the end of the map's order, so the first key is the oldest window.
        if (window) this.windows.delete(key);
        else if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
        window = { count: 0, resetAt: now + windowMs };
        this.windows.set(key, window);
      }
      window.count++;
      return { count: window.count, resetInMs: window.resetAt - now };
    });
  }

  get size(): number {
    return this.windows.size;
  }

  /** Drops expired windows so keys seen once do not stay forever. */
  sweep(now = this.now()): void {
    this.hitsSinceSweep = 0;
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}
