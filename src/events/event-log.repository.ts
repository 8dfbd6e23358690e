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

/** What one read of the log's end saw: the events, and the snapshot it saw them in (xid8 bounds, as text). */
export interface LogEndRead {
  rows: EventRow[];
  xmin: bigint;
  xmax: bigint;
}

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

  /**
   * Events of every org in (afterId, throughId], in id order, with the bounds of the snapshot the
   * statement read them in: the tail's read of the log's end.
   */
  async readEnd(afterId: bigint, throughId: bigint, limit: number): Promise<LogEndRead> {
    const rows = await this.dataSource.query<(EventRow & { snapshot_xmin: string; snapshot_xmax: string })[]>(
      `SELECT pg_snapshot_xmin(s.snapshot)::text AS snapshot_xmin, pg_snapshot_xmax(s.snapshot)::text AS snapshot_xmax, e.*
       FROM (SELECT pg_current_snapshot() AS snapshot) s
       LEFT JOIN LATERAL (SELECT ${COLUMNS} FROM events WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3) e ON true`,
      [afterId.toString(), throughId.toString(), limit],
    );
    const [first] = rows;
    return {
      xmin: BigInt(first.snapshot_xmin),
      xmax: BigInt(first.snapshot_xmax),
      rows: first.id === null ? [] : rows.map(({ snapshot_xmin: _xmin, snapshot_xmax: _xmax, ...row }) => row),
    };
  }

  /** Whether every transaction with an id below `xmax` has ended (committed or rolled back). */
  async endedBelow(xmax: bigint): Promise<boolean> {
    const [row] = await this.dataSource.query<{ ended: boolean }[]>(`SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::xid8 AS ended`, [xmax.toString()]);
    return row.ended;
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
