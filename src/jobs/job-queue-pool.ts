import PgBoss from 'pg-boss';
import { Pool, PoolConfig } from 'pg';

/**
 * pg-boss's database handle, on a pool the replica owns. pg-boss closing a pool of its own can hang
 * the replica's shutdown: its worker loops outnumber the pool's connections, so a worker's fetch
 * may be waiting for a connection when the pool ends, and pg's pool never answers a waiter once it
 * is ending. That fetch, its worker and pg-boss's wait for its workers (a one-second poll) then
 * never end, and the process never exits. Here the pool ends only after every statement in flight
 * has settled, and a statement asked for once closing has begun is dropped (see `executeSql`).
 */
export class JobQueuePool implements PgBoss.Db {
  private readonly pool: Pool;
  private inFlight = 0;
  private closing = false;
  private allSettled?: () => void;

  constructor(config: PoolConfig, onError: (error: Error) => void) {
    this.pool = new Pool(config);
    this.pool.on('error', onError);
  }

  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> {
    // Once pg-boss has stopped, its workers fetch nothing more, and the gateway's own job writes
    // run on their transaction's connection, never here. What still comes is a job handler that
    // outlived the stop's wait completing or failing its job: pg-boss has already failed that job
    // back to the queue ("shut down while active"), so the statement is moot, and pg-boss does not
    // await it, so refusing it would be an unhandled rejection that kills the process on its way
    // out (it failed a CI run so). It is dropped: its promise never settles and holds nothing open.
    if (this.closing) return new Promise(() => undefined);
    return this.run(text, values);
  }

  private async run(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> {
    this.inFlight++;
    try {
      return await this.pool.query(text, values);
    } finally {
      if (--this.inFlight === 0) this.allSettled?.();
    }
  }

  /** Ends the pool once the statements in flight have settled (at most `waitMs`). */
  async close(waitMs: number): Promise<void> {
    this.closing = true;
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        this.allSettled = resolve;
        setTimeout(resolve, waitMs).unref();
      });
    }
    await this.pool.end();
  }
}
