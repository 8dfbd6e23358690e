/** What a batch did for one of its items: its own answer or its own error. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

interface Waiting<I, R> {
  item: I;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Items submitted while a batch is in flight wait, and go together in the next batch (up to
 * `maxBatch`): N concurrent requests share one transaction or one query instead of paying N each
 * (group commit; docs/performance.md, "Send message accept"). An item submitted when nothing is in
 * flight goes at once (in the next turn of the event loop, with whatever else arrived in the same
 * turn): a lone request waits for no one. `run` settles every item of its batch on its own, so
 * one item's error is that item's answer only.
 */
export class Batching<I, R> {
  private readonly queue: Waiting<I, R>[] = [];
  private writing = false;

  constructor(
    private readonly run: (items: I[]) => Promise<Settled<R>[]>,
    private readonly maxBatch: number,
  ) {}

  /** Items waiting for the batch being written (not those in it). */
  get waiting(): number {
    return this.queue.length;
  }

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      let settled: Settled<R>[];
      try {
        settled = await this.run(batch.map((waiting) => waiting.item));
      } catch (error) {
        settled = batch.map(() => ({ ok: false, error }));
      }
      batch.forEach((waiting, index) => {
        const outcome = settled[index];
        if (outcome.ok) waiting.resolve(outcome.value);
        else waiting.reject(outcome.error);
      });
    }
    this.writing = false;
  }
}
