import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { holdFence, LeaseFence } from '../../leases/lease-fence';
import { SessionTx, SyncSessionNotFoundError } from './session-tx';

// Serialize writers of one session across processes (the gateway, a replay from the CLI). A
// transaction that only upserts messages takes the lock shared: message upserts merge
// commutatively (store/message.store.ts), so such transactions may run at once, never beside another write.
const LOCK_SESSION = `SELECT pg_advisory_xact_lock(hashtextextended('sync:' || $1, 0))`;
const LOCK_SESSION_SHARED = `SELECT pg_advisory_xact_lock_shared(hashtextextended('sync:' || $1, 0))`;
const SESSION_EXISTS = `SELECT id FROM sessions WHERE id = $1 FOR KEY SHARE`;

const SESSION_EXISTS_READ = `SELECT 1 FROM sessions WHERE id = $1`;

export const SYNC_TRANSACTION_STATEMENTS: Record<string, string> = { LOCK_SESSION, LOCK_SESSION_SHARED, SESSION_EXISTS, SESSION_EXISTS_READ };

/**
 * Where every write to the stored copy starts: `inSession` runs the topic stores' statements in one
 * transaction that holds the session's sync lock, and fails when the session is gone.
 */
@Injectable()
export class SyncTransactions {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Runs `work` in one transaction that holds the session's sync lock. With a `fence` (the batch
   * came from the connection of the replica holding the lease), the transaction is fenced like
   * every other write of the holder: once another replica claimed the session, it throws
   * LeaseLostError and writes nothing, however long this replica was paused with batches queued.
   * Without one (a replay from the CLI, the demo seeder) it is an operator's write.
   * `lock` 'shared': `work` only upserts messages, and may run beside other such transactions.
   */
  inSession<T>(sessionId: string, work: (tx: SessionTx) => Promise<T>, fence?: LeaseFence, lock: 'exclusive' | 'shared' = 'exclusive'): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      const tx = new SessionTx(sessionId, manager);
      await tx.query(lock === 'shared' ? LOCK_SESSION_SHARED : LOCK_SESSION);
      if ((await tx.query(SESSION_EXISTS)).length === 0) throw new SyncSessionNotFoundError(sessionId);
      if (fence) await holdFence(manager, fence);
      return work(tx);
    });
  }

  async sessionExists(sessionId: string): Promise<boolean> {
    return (await this.dataSource.query<unknown[]>(SESSION_EXISTS_READ, [sessionId])).length > 0;
  }
}
