import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { DesiredState } from '../../sessions/session-status';
import { AppConfig } from '../../config/app-config';
import { runningQuotaSql } from '../../sessions/org-quotas';
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

/** SQL: live leases held on the org's sessions (other than `exceptSession`). */
const HELD_BY_ORG = (orgColumn: string, exceptSession?: string) => `(SELECT count(*)::int FROM session_leases hl JOIN sessions hs ON hs.id = hl.session_id
  WHERE hs.org_id = ${orgColumn} AND hl.owner IS NOT NULL AND hl.expires_at > now()${exceptSession ? ` AND hl.session_id <> ${exceptSession}` : ''})`;

/**
 * The lease rows, by conditional statements only (no advisory locks: they do not survive
 * PgBouncer and do not fence). Every expiry is computed by the database's clock.
 */
@Injectable()
export class LeasesRepository {
  private readonly maxRunningPerOrg: number;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    config: AppConfig,
  ) {
    this.maxRunningPerOrg = config.sessions.maxRunningPerOrg;
  }

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
    const [row] = await this.dataSource.query<{ running: number; capacities: number[] }[]>(
      `SELECT (SELECT count(*)::int FROM sessions WHERE desired_state = 'running') AS running,
              ARRAY(SELECT capacity FROM gateway_replicas
                    WHERE heartbeat_at > now() - $1 * interval '1 millisecond' AND capacity > 0 AND NOT draining) AS capacities`,
      [liveWindowMs],
    );
    return { runningSessions: row.running, liveCapacities: row.capacities.map(Number) };
  }

  /**
   * Running sessions that nobody holds (never claimed, released, or expired), up to `limit`, fair
   * across organizations: an org's k-th session (counting those it holds already) comes before
   * any org's (k+1)-th, so one org's backlog never starves another's when capacity is short; and
   * never beyond an org's running-session quota (org-quotas.ts). Random within a rank, which
   * spreads concurrent claimers.
   */
  async findClaimable(limit: number, exclude: string[]): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `WITH unheld AS (
         SELECT s.id, s.org_id FROM sessions s
         LEFT JOIN session_leases l ON l.session_id = s.id
         WHERE s.desired_state = 'running' AND (l.session_id IS NULL OR l.owner IS NULL OR l.expires_at <= now())
           AND NOT (s.id = ANY($2::text[]))),
       ranked AS (
         SELECT u.id,
                ${HELD_BY_ORG('u.org_id')} + row_number() OVER (PARTITION BY u.org_id ORDER BY random()) AS rank,
                ${runningQuotaSql('u.org_id', '$3')} AS quota
         FROM unheld u)
       SELECT id FROM ranked WHERE rank <= quota ORDER BY rank, random() LIMIT $1`,
      [limit, exclude, this.maxRunningPerOrg],
    );
    return rows.map((row) => row.id);
  }

  /**
   * Takes the lease when nobody holds it (no row, released, or expired by the database's clock),
   * bumping the epoch. Atomic: of two replicas claiming at once, exactly one gets a row back. A
   * claim to hold (`requireRunning`) also needs the org below its running-session quota in live
   * leases; a claim to act (stop, logout) does not.
   */
  async claim(sessionId: string, owner: string, ttlMs: number, requireRunning: boolean): Promise<LeaseFence | undefined> {
    if (!requireRunning) return this.claimWith(this.dataSource.manager, sessionId, owner, ttlMs, false);
    // The quota condition counts the org's live leases: two replicas claiming two sessions of one org
    // at once would each count the other's claim as not there yet. One claim per org at a time.
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('org-lease-claim:' || org_id, 0)) FROM sessions WHERE id = $1`, [sessionId]);
      return this.claimWith(manager, sessionId, owner, ttlMs, true);
    });
  }

  private async claimWith(manager: EntityManager, sessionId: string, owner: string, ttlMs: number, requireRunning: boolean): Promise<LeaseFence | undefined> {
    const rows: { epoch: string }[] = await manager.query(
      `INSERT INTO session_leases (session_id, owner, epoch, expires_at, claimed_at)
       SELECT s.id, $2, 1, now() + $3 * interval '1 millisecond', now() FROM sessions s
       WHERE s.id = $1 AND (NOT $4 OR (s.desired_state = 'running' AND ${HELD_BY_ORG('s.org_id', 's.id')} < ${runningQuotaSql('s.org_id', '$5')}))
       ON CONFLICT (session_id) DO UPDATE
         SET owner = EXCLUDED.owner, epoch = session_leases.epoch + 1, expires_at = EXCLUDED.expires_at, claimed_at = now()
         WHERE session_leases.owner IS NULL OR session_leases.expires_at <= now()
       RETURNING epoch::text AS epoch`,
      [sessionId, owner, ttlMs, requireRunning, this.maxRunningPerOrg],
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
    const rows = await this.dataSource.query<unknown[]>(`SELECT 1 FROM session_leases WHERE session_id = $1 AND owner = $2 AND epoch = $3`, [
      fence.sessionId,
      fence.owner,
      fence.epoch,
    ]);
    return rows.length > 0;
  }
}
