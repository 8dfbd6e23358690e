import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** Proof of holding a session's lease: the fencing token every write of the holder carries. */
export interface LeaseFence {
  sessionId: string;
  owner: string;
  /** The lease epoch (a bigint, as text). */
  epoch: string;
}

/** The lease moved on (claimed by another replica, released, or its session deleted). */
export class LeaseLostError extends Error {
  constructor(readonly sessionId: string) {
    super(`the lease of session ${sessionId} is no longer held by this replica`);
    this.name = 'LeaseLostError';
  }
}

/**
 * Fenced writes. `run` opens a transaction, takes a SHARE lock on the session's lease row and
 * checks owner and epoch before doing the work. A claim (which bumps the epoch) needs a row lock
 * that conflicts with SHARE, so it waits for fenced writes in flight, and every write after it
 * sees the new epoch and is refused: a paused former holder can never overwrite the new one.
 */
@Injectable()
export class LeaseFencing {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  run<T>(fence: LeaseFence, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await holdFence(manager, fence);
      return work(manager);
    });
  }
}

/**
 * The fence check, inside the caller's transaction: takes a SHARE lock on the session's lease row
 * (a claim, which bumps the epoch, waits for the transaction) and throws LeaseLostError unless the
 * lease is still `fence`'s owner and epoch. Credentials, status and chat-sync writes all go
 * through it.
 */
export async function holdFence(manager: Pick<EntityManager, 'query'>, fence: LeaseFence): Promise<void> {
  const rows: { owner: string | null; epoch: string }[] = await manager.query(
    `SELECT owner, epoch::text AS epoch FROM session_leases WHERE session_id = $1 FOR SHARE`,
    [fence.sessionId],
  );
  if (rows.length === 0 || rows[0].owner !== fence.owner || rows[0].epoch !== fence.epoch) throw new LeaseLostError(fence.sessionId);
}
