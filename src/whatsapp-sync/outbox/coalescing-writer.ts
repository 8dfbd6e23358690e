/**
 * Writes ids in batches: an id added while no write runs starts one; the ids added while it runs
 * go together in the next. Each `add` resolves once its id's write has committed. A write that
 * fails fails its ids' promises and every later `add`, and `settled()` throws it.
 */
export class CoalescingWriter {
  private queued: { id: string; resolve: () => void; reject: (error: Error) => void }[] = [];
  private running?: Promise<void>;
  private failure?: Error;

  constructor(private readonly write: (ids: string[]) => Promise<void>) {}

  add(id: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const written = new Promise<void>((resolve, reject) => this.queued.push({ id, resolve, reject }));
    this.running ??= this.drain();
    return written;
  }

  /** Once every id added so far is written; throws the write's error if one failed. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
    if (this.failure) throw this.failure;
  }

  private async drain(): Promise<void> {
    while (this.queued.length > 0) {
      const batch = this.queued;
      this.queued = [];
      try {
        await this.write(batch.map((each) => each.id));
        for (const each of batch) each.resolve();
      } catch (error) {
        this.failure = error as Error;
        for (const each of [...batch, ...this.queued]) each.reject(this.failure);
        this.queued = [];
      }
    }
    this.running = undefined;
  }
}
