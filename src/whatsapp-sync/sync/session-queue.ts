/**
 * Per-session ordered execution: tasks of one session run one after another, in submission order
 * (Baileys calls its event handlers without awaiting them, so two batches of one session could
 * otherwise interleave their writes); tasks of different sessions run in parallel, at most
 * `maxConcurrent` at a time so the sync never takes every database connection from the API.
 * A running task may borrow a slot nobody waits for (`borrowIdleSlot`) for a second connection.
 */
export class SessionQueue {
  private readonly sessions = new Map<string, { tail: Promise<void>; depth: number }>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly maxConcurrent: number) {}

  run<T>(sessionId: string, task: () => Promise<T>): Promise<T> {
    let entry = this.sessions.get(sessionId);
    if (!entry) {
      entry = { tail: Promise.resolve(), depth: 0 };
      this.sessions.set(sessionId, entry);
    }
    const current = entry;
    current.depth++;
    const result = current.tail.then(() => this.withSlot(task));
    current.tail = result.then(
      () => this.settle(sessionId, current),
      () => this.settle(sessionId, current),
    );
    return result;
  }

  /** Tasks submitted and not finished for the session (including the running one). */
  depth(sessionId: string): number {
    return this.sessions.get(sessionId)?.depth ?? 0;
  }

  /** Sessions with queued work, and how deep each queue is. */
  depths(): Record<string, number> {
    return Object.fromEntries([...this.sessions].map(([id, entry]) => [id, entry.depth]));
  }

  /** Resolves once every task submitted so far has finished. */
  async drain(): Promise<void> {
    while (this.sessions.size > 0) await Promise.all([...this.sessions.values()].map((entry) => entry.tail));
  }

  /**
   * A slot no task waits for, taken now, for a running task's extra work; undefined when every
   * slot is busy or wanted. The returned function gives it back (once).
   */
  borrowIdleSlot(): (() => void) | undefined {
    if (this.running >= this.maxConcurrent || this.waiting.length > 0) return undefined;
    this.running++;
    let returned = false;
    return () => {
      if (returned) return;
      returned = true;
      this.release();
    };
  }

  private settle(sessionId: string, entry: { depth: number }): void {
    entry.depth--;
    if (entry.depth === 0 && this.sessions.get(sessionId) === entry) this.sessions.delete(sessionId);
  }

  private async withSlot<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.maxConcurrent) this.running++;
    // A finishing task hands its slot straight to the next waiter, so the limit is never exceeded.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
