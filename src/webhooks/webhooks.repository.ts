import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { EventType } from '../events/event-types';
import type { EventRow } from '../events/gateway-event';

export interface WebhookRow {
  id: string;
  org_id: string;
  url: string;
  event_types: EventType[];
  session_id: string | null;
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  secret: Buffer;
  previous_secret: Buffer | null;
  previous_secret_expires_at: Date | null;
  starts_after_event: string;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: EventType;
  status: DeliveryStatus;
  attempts: number;
  replay: boolean;
  response_status: number | null;
  duration_ms: number | null;
  error: string | null;
  response_excerpt: string | null;
  next_attempt_at: Date | null;
  last_attempt_at: Date | null;
  created_at: Date;
}

/** What a delivery attempt needs: the delivery, its webhook and its event. */
export interface DeliveryWork {
  delivery_id: string;
  status: DeliveryStatus;
  attempts: number;
  webhook: WebhookRow;
  event: EventRow;
}

/** The outcome of one attempt, as stored. */
export interface AttemptRecord {
  id: string;
  status: DeliveryStatus;
  attempts: number;
  response_status: number | null;
  duration_ms: number;
  error: string | null;
  response_excerpt: string | null;
  next_attempt_at: string | null;
}

export interface NewDelivery {
  id: string;
  webhook_id: string;
  event_id: string;
  replay: boolean;
}

export type WebhookChanges = Partial<Pick<WebhookRow, 'url' | 'event_types' | 'session_id' | 'description' | 'enabled'>>;

const WEBHOOK_COLUMNS: Record<keyof WebhookChanges, string> = {
  url: 'url',
  event_types: 'event_types',
  session_id: 'session_id',
  description: 'description',
  enabled: 'enabled',
};

/** Webhooks and their deliveries, in intent-named statements; every read of the API is scoped by org. */
@Injectable()
export class WebhooksRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Inserts the webhook; it receives the events numbered after the newest one visible now (docs/events.md, "Webhooks"). */
  async insert(row: Pick<WebhookRow, 'id' | 'org_id' | 'url' | 'event_types' | 'session_id' | 'description' | 'enabled' | 'secret'>): Promise<WebhookRow> {
    const [created] = await this.dataSource.query<WebhookRow[]>(
      `INSERT INTO webhooks (id, org_id, url, event_types, session_id, description, enabled, secret, starts_after_event)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, (SELECT COALESCE(max(id), 0) FROM events))
       RETURNING *`,
      [row.id, row.org_id, row.url, row.event_types, row.session_id, row.description, row.enabled, row.secret],
    );
    return created;
  }

  async findForOrg(orgId: string, id: string): Promise<WebhookRow | undefined> {
    const [row] = await this.dataSource.query<WebhookRow[]>(`SELECT * FROM webhooks WHERE id = $1 AND org_id = $2`, [id, orgId]);
    return row;
  }

  /** Up to `count` of the org's webhooks in id (= creation) order, after `afterId` when given. */
  async pageForOrg(orgId: string, count: number, afterId?: string): Promise<WebhookRow[]> {
    return this.dataSource.query(`SELECT * FROM webhooks WHERE org_id = $1 AND ($3::text IS NULL OR id > $3) ORDER BY id LIMIT $2`, [
      orgId,
      count,
      afterId ?? null,
    ]);
  }

  /** Applies the given changes; re-enabling clears the failure state. Returns the row, or undefined when not the org's. */
  async update(orgId: string, id: string, changes: WebhookChanges): Promise<WebhookRow | undefined> {
    const entries = Object.entries(changes).filter(([, value]) => value !== undefined) as [keyof WebhookChanges, unknown][];
    const assignments = entries.map(([key], index) => `${WEBHOOK_COLUMNS[key]} = $${index + 3}`);
    if (changes.enabled === true) assignments.push('disabled_reason = NULL', 'failing_since = NULL');
    const [rows] = await this.dataSource.query<[WebhookRow[], number]>(
      `UPDATE webhooks SET ${[...assignments, 'updated_at = now()'].join(', ')} WHERE id = $1 AND org_id = $2 RETURNING *`,
      [id, orgId, ...entries.map(([, value]) => value)],
    );
    return rows[0];
  }

  async rotateSecret(orgId: string, id: string, secret: Buffer, previous: Buffer, previousExpiresAt: Date): Promise<WebhookRow | undefined> {
    const [rows] = await this.dataSource.query<[WebhookRow[], number]>(
      `UPDATE webhooks SET secret = $3, previous_secret = $4, previous_secret_expires_at = $5, updated_at = now() WHERE id = $1 AND org_id = $2 RETURNING *`,
      [id, orgId, secret, previous, previousExpiresAt],
    );
    return rows[0];
  }

  async delete(orgId: string, id: string): Promise<boolean> {
    const [, count] = await this.dataSource.query<[unknown[], number]>(`DELETE FROM webhooks WHERE id = $1 AND org_id = $2`, [id, orgId]);
    return count > 0;
  }

  /** The webhook's deliveries, newest first, before `beforeId` when given. */
  async deliveriesPage(webhookId: string, count: number, beforeId?: string): Promise<DeliveryRow[]> {
    return this.dataSource.query(
      `SELECT d.*, e.type AS event_type FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
       WHERE d.webhook_id = $1 AND ($3::text IS NULL OR d.id < $3) ORDER BY d.id DESC LIMIT $2`,
      [webhookId, count, beforeId ?? null],
    );
  }

  // The dispatcher (events -> deliveries).

  /** Locks the dispatch position for this transaction; undefined when another replica holds it (it is dispatching). */
  async lockDispatchPosition(manager: EntityManager): Promise<bigint | undefined> {
    const [row] = await manager.query<{ event_id: string }[]>(
      `SELECT event_id::text AS event_id FROM webhook_dispatch_position WHERE id = 1 FOR UPDATE SKIP LOCKED`,
    );
    return row ? BigInt(row.event_id) : undefined;
  }

  /**
   * When no org has an enabled webhook, moves the dispatch position up to `eventId` (never back) in
   * this one statement and answers true: there is nothing to dispatch, so no page is read. Answers
   * false, moving nothing, when some webhook is enabled. A replica dispatching a page holds the row;
   * it is then left as it is (SKIP LOCKED), for the next wake.
   */
  async skipDispatchWithoutWebhooks(eventId: bigint): Promise<boolean> {
    const [row] = await this.dataSource.query<{ idle: boolean }[]>(
      `WITH idle AS (SELECT NOT EXISTS (SELECT FROM webhooks WHERE enabled) AS idle),
            moved AS (
              UPDATE webhook_dispatch_position SET event_id = $1
              WHERE id = (SELECT id FROM webhook_dispatch_position WHERE id = 1 AND event_id < $1 AND (SELECT idle FROM idle) FOR UPDATE SKIP LOCKED)
            )
       SELECT idle FROM idle`,
      [eventId.toString()],
    );
    return row.idle;
  }

  async setDispatchPosition(manager: EntityManager, eventId: bigint): Promise<void> {
    await manager.query(`UPDATE webhook_dispatch_position SET event_id = $1 WHERE id = 1`, [eventId.toString()]);
  }

  async enabledWebhooksOf(
    manager: EntityManager,
    orgIds: string[],
  ): Promise<Pick<WebhookRow, 'id' | 'org_id' | 'event_types' | 'session_id' | 'starts_after_event'>[]> {
    return manager.query(`SELECT id, org_id, event_types, session_id, starts_after_event FROM webhooks WHERE enabled AND org_id = ANY($1)`, [orgIds]);
  }

  async insertDeliveries(manager: EntityManager, deliveries: NewDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    await manager.query(
      `INSERT INTO webhook_deliveries (id, webhook_id, event_id, replay)
       SELECT r.id, r.webhook_id, r.event_id, r.replay FROM json_to_recordset($1::json) AS r(id text, webhook_id text, event_id bigint, replay boolean)`,
      [JSON.stringify(deliveries)],
    );
  }

  // The worker (deliveries -> HTTP).

  /**
   * What the attempts of a batch need, in two statements: the deliveries with their events, then
   * their webhooks once each (a batch mostly goes to a few webhooks; one row per delivery carried
   * its webhook, secrets included, again and again).
   */
  async loadWork(deliveryIds: string[]): Promise<DeliveryWork[]> {
    const rows = await this.dataSource.query<
      (Omit<EventRow, 'id'> & { delivery_id: string; status: DeliveryStatus; attempts: number; webhook_id: string; event_id: string })[]
    >(
      `SELECT d.id AS delivery_id, d.status, d.attempts, d.webhook_id, e.id::text AS event_id, e.type, e.org_id, e.session_id, e.occurred_at::text AS occurred_at, e.data
       FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
       WHERE d.id = ANY($1)`,
      [deliveryIds],
    );
    if (rows.length === 0) return [];
    const webhooks = new Map(
      (await this.dataSource.query<WebhookRow[]>(`SELECT * FROM webhooks WHERE id = ANY($1)`, [[...new Set(rows.map((row) => row.webhook_id))]])).map(
        (webhook) => [webhook.id, webhook],
      ),
    );
    const work: DeliveryWork[] = [];
    for (const row of rows) {
      // Deleted since the first statement: its deliveries are gone with it.
      const webhook = webhooks.get(row.webhook_id);
      if (!webhook) continue;
      work.push({
        delivery_id: row.delivery_id,
        status: row.status,
        attempts: row.attempts,
        webhook,
        event: { id: row.event_id, type: row.type, org_id: row.org_id, session_id: row.session_id, occurred_at: row.occurred_at, data: row.data },
      });
    }
    return work;
  }

  /** Stores attempts' outcomes; only for deliveries still pending after `attempts - 1` attempts (a repeated job changes nothing). Returns the ids updated. */
  async recordAttempts(manager: EntityManager, records: AttemptRecord[]): Promise<Set<string>> {
    if (records.length === 0) return new Set();
    const [rows]: [{ id: string }[], number] = await manager.query(
      `UPDATE webhook_deliveries d SET status = r.status, attempts = r.attempts, response_status = r.response_status, duration_ms = r.duration_ms,
         error = r.error, response_excerpt = r.response_excerpt, next_attempt_at = r.next_attempt_at, last_attempt_at = now()
       FROM json_to_recordset($1::json) AS r(id text, status text, attempts integer, response_status integer, duration_ms integer, error text,
         response_excerpt text, next_attempt_at timestamptz)
       WHERE d.id = r.id AND d.status = 'pending' AND d.attempts = r.attempts - 1
       RETURNING d.id`,
      [JSON.stringify(records)],
    );
    return new Set(rows.map((row) => row.id));
  }

  /** A success clears the webhook's failure streak; a failure starts one. */
  async recordHealth(manager: EntityManager, succeeded: string[], failed: string[]): Promise<void> {
    if (succeeded.length > 0) await manager.query(`UPDATE webhooks SET failing_since = NULL WHERE id = ANY($1) AND failing_since IS NOT NULL`, [succeeded]);
    if (failed.length > 0) await manager.query(`UPDATE webhooks SET failing_since = now() WHERE id = ANY($1) AND failing_since IS NULL`, [failed]);
  }

  /** Disables the webhook (if enabled); returns its row when this call disabled it. */
  async disable(manager: EntityManager, id: string, reason: string): Promise<WebhookRow | undefined> {
    const [rows] = await manager.query<[WebhookRow[], number]>(
      `UPDATE webhooks SET enabled = false, disabled_reason = $2, updated_at = now() WHERE id = $1 AND enabled RETURNING *`,
      [id, reason],
    );
    return rows[0];
  }

  /** Fails the pending deliveries of disabled or deleted webhooks that are still queued. */
  async abandon(manager: EntityManager, deliveryIds: string[], reason: string): Promise<void> {
    if (deliveryIds.length === 0) return;
    await manager.query(`UPDATE webhook_deliveries SET status = 'failed', error = $2, next_attempt_at = NULL WHERE id = ANY($1) AND status = 'pending'`, [
      deliveryIds,
      reason,
    ]);
  }
}
