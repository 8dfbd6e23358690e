import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { EventType } from './event-types';
import type { EventRouting, EventRow } from './gateway-event';

export interface EventFilter {
  types?: readonly EventType[];
  sessionId?: string;
}

const COLUMNS = 'id, type, org_id, session_id, occurred_at, data';

/** The event log (migration 1765018000000): read in commit order, written only through staging. */
@Injectable()
export class EventLogRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Events of every org after `afterId`, in commit order: what the replica's tail fans out and the webhook dispatcher reads. */
  async readAfter(afterId: bigint, limit: number, manager: EntityManager = this.dataSource.manager): Promise<EventRow[]> {
    return manager.query(`SELECT ${COLUMNS} FROM events WHERE id > $1 ORDER BY id LIMIT $2`, [afterId.toString(), limit]);
  }

  /**
   * What routes events after `afterId` (id, type, org, session), in commit order, without their
   * data: the webhook dispatcher decides who wants an event from these alone, and a delivery
   * loads its event when it is sent.
   */
  async readRoutingAfter(afterId: bigint, limit: number, manager: EntityManager = this.dataSource.manager): Promise<EventRouting[]> {
    return manager.query(`SELECT id, type, org_id, session_id FROM events WHERE id > $1 ORDER BY id LIMIT $2`, [afterId.toString(), limit]);
  }

  /** One org's events after `afterId` that pass `filter`, in commit order (a stream catching up). */
  async readForOrgAfter(orgId: string, afterId: bigint, filter: EventFilter, limit: number): Promise<EventRow[]> {
    return this.dataSource.query(
      `SELECT ${COLUMNS} FROM events
       WHERE org_id = $1 AND id > $2 AND ($3::text[] IS NULL OR type = ANY($3)) AND ($4::text IS NULL OR session_id = $4)
       ORDER BY id LIMIT $5`,
      [orgId, afterId.toString(), filter.types ?? null, filter.sessionId ?? null, limit],
    );
  }

  /** One org's events committed in [fromMs, toMs), in commit order, after `afterId` (a replay, page by page). */
  async readForOrgBetween(orgId: string, fromMs: number, toMs: number, afterId: bigint, limit: number): Promise<EventRow[]> {
    return this.dataSource.query(
      `SELECT ${COLUMNS} FROM events WHERE org_id = $1 AND id > $2 AND occurred_at >= $3 AND occurred_at < $4 ORDER BY id LIMIT $5`,
      [orgId, afterId.toString(), fromMs, toMs, limit],
    );
  }

  /** The newest event's id (0 when the log is empty). */
  async lastId(): Promise<bigint> {
    const [row] = await this.dataSource.query<{ id: string }[]>(`SELECT COALESCE(max(id), 0)::text AS id FROM events`);
    return BigInt(row.id);
  }

  /**
   * Publishes an event that no table trigger writes (e.g. webhook.disabled) in the caller's
   * transaction: it becomes visible, numbered in commit order, when that transaction commits.
   */
  async stage(manager: EntityManager, event: { type: EventType; orgId: string; sessionId: string | null; data: Record<string, unknown> }): Promise<void> {
    await manager.query(
      `INSERT INTO event_staging (type, org_id, session_id, occurred_at, data) VALUES ($1, $2, $3, (extract(epoch FROM clock_timestamp()) * 1000)::bigint, $4)`,
      [event.type, event.orgId, event.sessionId, JSON.stringify(event.data)],
    );
    await manager.query(`SELECT event_mark_for_publication()`);
  }

  /**
   * Deletes up to `batch` events committed before `beforeMs` (with their deliveries), and moves
   * each organization's horizon (the highest id deleted) in the same statement; returns how many.
   */
  async deleteOlderThan(beforeMs: number, batch: number): Promise<number> {
    const [row] = await this.dataSource.query<{ count: number }[]>(
      `WITH deleted AS (
         DELETE FROM events WHERE id IN (SELECT id FROM events WHERE occurred_at < $1 ORDER BY id LIMIT $2) RETURNING org_id, id),
       horizon AS (
         INSERT INTO event_log_horizon (org_id, swept_through) SELECT org_id, max(id) FROM deleted GROUP BY org_id
         ON CONFLICT (org_id) DO UPDATE SET swept_through = GREATEST(event_log_horizon.swept_through, EXCLUDED.swept_through))
       SELECT count(*)::int AS count FROM deleted`,
      [beforeMs, batch],
    );
    return row.count;
  }

  /** The highest id retention deleted of the org's events (0 when none): a stream resuming below it has lost events. */
  async sweptThrough(orgId: string): Promise<bigint> {
    const rows = await this.dataSource.query<{ id: string }[]>(`SELECT swept_through::text AS id FROM event_log_horizon WHERE org_id = $1`, [orgId]);
    return rows.length > 0 ? BigInt(rows[0].id) : 0n;
  }
}
