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
/**
 * The event log's numbering lock as pg_locks shows it: the advisory lock on the bigint key
 * hashtextextended('gateway:event-log', 0) (high half in classid, low half in objid, objsubid 1),
 * granted, in this database. Every transaction that numbers events holds it in shared mode from
 * before it takes a number until its commit is visible (migration 1796590000000).
 */
const NUMBERING_LOCK = `locktype = 'advisory' AND granted AND objsubid = 1
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND classid = ((hashtextextended('gateway:event-log', 0) >> 32) & 4294967295)::oid
  AND objid = (hashtextextended('gateway:event-log', 0) & 4294967295)::oid`;

/**
 * The event log (migrations 1765018000000, 1796590000000), written only through staging. Ids are
 * taken as transactions commit, concurrently: every read is bounded by a settled horizon (`upTo`,
 * from EventLogTail) below which no event can still appear, so readers see ids only grow.
 */
@Injectable()
export class EventLogRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The highest event id the sequence has handed out (0 before the first): events up to it may still be committing. */
  async numberedThrough(): Promise<bigint> {
    const [row] = await this.dataSource.query<{ id: string }[]>(
      `SELECT (CASE WHEN is_called THEN last_value ELSE last_value - 1 END)::text AS id FROM events_id_seq`,
    );
    return BigInt(row.id);
  }

  /** Events of every org after `afterId`, in id order: what the replica's tail reads (it alone reads past the settled horizon, and checks for gaps). */
  async readAfter(afterId: bigint, limit: number): Promise<EventRow[]> {
    return this.dataSource.query(`SELECT ${COLUMNS} FROM events WHERE id > $1 ORDER BY id LIMIT $2`, [afterId.toString(), limit]);
  }

  /** The transactions (virtual ids) holding the numbering lock now: those that may still commit a number already taken. */
  async numberingTransactions(): Promise<string[]> {
    const rows = await this.dataSource.query<{ vxid: string }[]>(`SELECT virtualtransaction AS vxid FROM pg_locks WHERE ${NUMBERING_LOCK}`);
    return rows.map((row) => row.vxid);
  }

  /** Whether any of `transactions` still holds the numbering lock. */
  async stillNumbering(transactions: string[]): Promise<boolean> {
    const [row] = await this.dataSource.query<{ holding: boolean }[]>(
      `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE ${NUMBERING_LOCK} AND virtualtransaction = ANY($1)) AS holding`,
      [transactions],
    );
    return row.holding;
  }

  /**
   * What routes events in (afterId, upTo] (id, type, org, session), in id order, without their
   * data: the webhook dispatcher decides who wants an event from these alone, and a delivery
   * loads its event when it is sent.
   */
  async readRoutingAfter(afterId: bigint, upTo: bigint, limit: number, manager: EntityManager = this.dataSource.manager): Promise<EventRouting[]> {
    return manager.query(`SELECT id, type, org_id, session_id FROM events WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3`, [
      afterId.toString(),
      upTo.toString(),
      limit,
    ]);
  }

  /** One org's events in (afterId, upTo] that pass `filter`, in id order (a stream catching up). */
  async readForOrgAfter(orgId: string, afterId: bigint, upTo: bigint, filter: EventFilter, limit: number): Promise<EventRow[]> {
    return this.dataSource.query(
      `SELECT ${COLUMNS} FROM events
       WHERE org_id = $1 AND id > $2 AND id <= $3 AND ($4::text[] IS NULL OR type = ANY($4)) AND ($5::text IS NULL OR session_id = $5)
       ORDER BY id LIMIT $6`,
      [orgId, afterId.toString(), upTo.toString(), filter.types ?? null, filter.sessionId ?? null, limit],
    );
  }

  /** One org's events committed in [fromMs, toMs), in id order, in (afterId, upTo] (a replay, page by page). */
  async readForOrgBetween(orgId: string, fromMs: number, toMs: number, afterId: bigint, upTo: bigint, limit: number): Promise<EventRow[]> {
    return this.dataSource.query(
      `SELECT ${COLUMNS} FROM events WHERE org_id = $1 AND id > $2 AND id <= $3 AND occurred_at >= $4 AND occurred_at < $5 ORDER BY id LIMIT $6`,
      [orgId, afterId.toString(), upTo.toString(), fromMs, toMs, limit],
    );
  }

  /**
   * Publishes an event that no table trigger writes (e.g. webhook.disabled) in the caller's
   * transaction: it is numbered, and becomes visible, when that transaction commits.
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
