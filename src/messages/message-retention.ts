import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';

const DAY_MS = 86_400_000;

const SET_RETENTION = `
  INSERT INTO org_settings (org_id, message_retention_days) VALUES ($1, $2)
  ON CONFLICT (org_id) DO UPDATE SET message_retention_days = EXCLUDED.message_retention_days, updated_at = now()`;
const RETENTION_OF = `SELECT message_retention_days AS days FROM org_settings WHERE org_id = $1`;
// The chats of every session whose org keeps messages for a limited time, with that org's cutoff.
const CHATS_TO_SWEEP = `
  SELECT c.session_id, c.id AS chat_id, o.message_retention_days AS days
  FROM org_settings o JOIN sessions s ON s.org_id = o.org_id JOIN chats c ON c.session_id = s.id
  WHERE o.message_retention_days IS NOT NULL`;
// One bounded batch of a chat's oldest messages before the cutoff: a forward walk of
// messages_chat_page, then deletes by primary key, in a statement (and transaction) of its own,
// so no lock is held for longer than one batch.
const DELETE_BATCH = `
  DELETE FROM messages
  WHERE session_id = $1 AND id IN (
    SELECT id FROM messages WHERE session_id = $1 AND chat_id = $2 AND ts IS NOT NULL AND ts < $3 ORDER BY ts LIMIT $4)`;

/**
 * Per-org message retention: by default an org keeps every message; with a retention of N days,
 * messages older than that are deleted by a sweep every MESSAGE_RETENTION_SWEEP_MS, in batches of
 * MESSAGE_RETENTION_BATCH. Replicas may sweep at the same time: each batch is idempotent.
 */
@Injectable()
export class MessageRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('MessageRetention');
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const every = this.config.messages.retentionSweepMs;
    if (every === 0) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.sweep()
        .catch((error: Error) => {
          this.logger.warn(`message retention sweep failed: ${error.message}`);
          return 0;
        })
        .finally(() => (this.running = undefined));
    }, every);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Sets how many days an org keeps its messages; null keeps everything (the default). */
  async setForOrg(orgId: string, days: number | null): Promise<void> {
    await this.dataSource.query(SET_RETENTION, [orgId, days]);
  }

  async retentionOf(orgId: string): Promise<number | null> {
    const rows: { days: number | null }[] = await this.dataSource.query(RETENTION_OF, [orgId]);
    return rows[0]?.days ?? null;
  }

  /** Deletes every message past its org's retention as of `now`; returns how many. */
  async sweep(now = Date.now()): Promise<number> {
    const chats: { session_id: string; chat_id: string; days: number }[] = await this.dataSource.query(CHATS_TO_SWEEP);
    const batch = this.config.messages.retentionBatch;
    let deleted = 0;
    for (const chat of chats) {
      const cutoff = now - chat.days * DAY_MS;
      for (;;) {
        if (this.stopped) return deleted;
        // TypeORM answers a DELETE with [rows, affected count].
        const [, count]: [unknown, number] = await this.dataSource.query(DELETE_BATCH, [chat.session_id, chat.chat_id, cutoff, batch]);
        deleted += count;
        if (count < batch) break;
      }
    }
    if (deleted > 0) this.logger.log({ deleted }, 'deleted messages past their retention');
    return deleted;
  }
}
