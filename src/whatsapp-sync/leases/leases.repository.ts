import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { DesiredState } from '../../sessions/session-status';
import type { LeaseFence } from './lease-fence';

export interface Census {
  runningSessions: number;
  /** Capacities of the replicas that heartbeat within the TTL, are not draining and hold sessions at all. */
  liveCapacities: number[];
}

export interface RenewedLease {
  sessionId: string;
  desiredState: DesiredState;
}

/**
 * The lease rows, by conditional statements only (no advisory locks: they do not survive
 * PgBouncer and do not fence). Every expiry is computed by the database's clock.
 */
@Injectable()
export class LeasesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async heartbeat(replicaId: string, capacity: number, draining: boolean): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO gateway_replicas (id, capacity, draining, heartbeat_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (id) DO UPDATE SET capacity = EXCLUDED.capacity, draining = EXCLUDED.draining, heartbeat_at = now()`,
      [replicaId, capacity, draining],
    );
  }

  async removeReplica(replicaId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM gateway_replicas WHERE id = $1`, [replicaId]);
  }

  /** Forgets replicas silent for an hour (crashed ones never say goodbye). */
  async pruneReplicas(): Promise<void> {
    await this.dataSource.query(`DELETE FROM gateway_replicas WHERE heartbeat_at < now() - interval '1 hour'`);
  }

  async census(liveWindowMs: number): Promise<Census> {
    const [row] = await this.dataSource.query(
      `SELECT (SELECT count(*)::int FROM sessions WHERE desired_state = 'running') AS running,
              ARRAY(SELECT capacity FROM gateway_replicas
                    WHERE heartbeat_at > now() - $1 * interval '1 millisecond' AND capacity > 0 AND NOT draining) AS capacities`,
      [liveWindowMs],
    );
    return { runningSessions: row.running, liveCapacities: (row.capacities as number[]).map(Number) };
  }

  /** Running sessions that nobody holds: never claimed, released, or whose lease expired. Random order spreads concurrent claimers. */
  async findClaimable(limit: number, exclude: string[]): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT s.id FROM sessions s
       LEFT JOIN session_leases l ON l.session_id = s.id
       WHERE s.desired_state = 'running' AND (l.session_id IS NULL OR l.owner IS NULL OR l.expires_at <= now())
         AND NOT (s.id = ANY($2::text[]))
       ORDER BY random()
       LIMIT $1`,
      [limit, exclude],
    );
    return rows.map((row) => row.id);
  }

  /**
   * Takes the lease when nobody holds it (no row, released, or expired by the database's clock),
   * bumping the epoch. Atomic: of two replicas claiming at once, exactly one gets a row back.
   */
  async claim(sessionId: string, owner: string, ttlMs: number, requireRunning: boolean): Promise<LeaseFence | undefined> {
    const rows: { epoch: string }[] = await this.dataSource.query(
      `INSERT INTO session_leases (session_id, owner, epoch, expires_at, claimed_at)
       SELECT s.id, $2, 1, now() + $3 * interval '1 millisecond', now() FROM sessions s
       WHERE s.id = $1 AND (NOT $4 OR s.desired_state = 'running')
       ON CONFLICT (session_id) DO UPDATE
         SET owner = EXCLUDED.owner, epoch = session_leases.epoch + 1, expires_at = EXCLUDED.expires_at, claimed_at = now()
         WHERE session_leases.owner IS NULL OR session_leases.expires_at <= now()
       RETURNING epoch::text AS epoch`,
      [sessionId, owner, ttlMs, requireRunning],
    );
    return rows[0] ? { sessionId, owner, epoch: rows[0].epoch } : undefined;
  }

  /** Extends every lease still ours at the epoch we hold; the ones missing from the result are lost. */
  async renew(owner: string, fences: LeaseFence[], ttlMs: number): Promise<RenewedLease[]> {
    if (fences.length === 0) return [];
    // TypeORM answers an UPDATE with [rows, affected count].
    const [rows]: [{ session_id: string; desired_state: DesiredState }[], number] = await this.dataSource.query(
      `UPDATE session_leases l SET expires_at = now() + $4 * interval '1 millisecond'
       FROM unnest($2::text[], $3::bigint[]) AS h(session_id, epoch), sessions s
       WHERE l.session_id = h.session_id AND l.epoch = h.epoch AND l.owner = $1 AND s.id = l.session_id
       RETURNING l.session_id, s.desired_state`,
      [owner, fences.map((fence) => fence.sessionId), fences.map((fence) => fence.epoch), ttlMs],
    );
    return rows.map((row) => ({ sessionId: row.session_id, desiredState: row.desired_state }));
  }

  /** Gives leases up at once (the next claimer does not wait for expiry). Only the epochs we hold. */
  async release(fences: LeaseFence[]): Promise<void> {
    if (fences.length === 0) return;
    await this.dataSource.query(
      `UPDATE session_leases l SET owner = NULL, expires_at = now()
       FROM unnest($1::text[], $2::text[], $3::bigint[]) AS h(session_id, owner, epoch)
       WHERE l.session_id = h.session_id AND l.owner = h.owner AND l.epoch = h.epoch`,
      [fences.map((fence) => fence.sessionId), fences.map((fence) => fence.owner), fences.map((fence) => fence.epoch)],
    );
  }

  /** The live holder of a session, if any. */
  async holderOf(sessionId: string): Promise<LeaseFence | undefined> {
    const rows: { owner: string; epoch: string }[] = await this.dataSource.query(
      `SELECT owner, epoch::text AS epoch FROM session_leases WHERE session_id = $1 AND owner IS NOT NULL AND expires_at > now()`,
      [sessionId],
    );
    return rows[0] ? { sessionId, owner: rows[0].owner, epoch: rows[0].epoch } : undefined;
  }

  /** Whether this fence is still the session's current lease (owner and epoch). */
  async isCurrent(fence: LeaseFence): Promise<boolean> {
    const rows = await this.dataSource.query(`SELECT 1 FROM session_leases WHERE session_id = $1 AND owner = $2 AND epoch = $3`, [
      fence.sessionId,
      fence.owner,
      fence.epoch,
    ]);
    return rows.length > 0;
  }
}
