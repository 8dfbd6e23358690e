import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig } from '../config/app-config';
import { EventLogRepository } from './event-log.repository';
import type { EventRow } from './gateway-event';

/** The channel the log's publisher notifies with the newest event id (migration 1765018000000). */
export const EVENTS_CHANNEL = 'gateway_events';
const PAGE = 1000;
const RECONNECT_DELAY_MS = 1000;

export type TailListener = (events: readonly EventRow[]) => void;

/**
 * This replica's view of the end of the event log: it follows the log in commit order (woken by
 * PostgreSQL NOTIFY from whichever replica or process committed, and polling every
 * EVENTS_POLL_INTERVAL_MS in case a notification was missed) and hands each new event, once, to
 * every listener. One reader per replica, however many streams are open.
 */
@Injectable()
export class EventLogTail implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('EventLog');
  private readonly listeners = new Set<TailListener>();
  /** Unknown until the log was first read (the replica may boot before the migrations ran). */
  private position?: bigint;
  private reading?: Promise<void>;
  private again = false;
  private client?: Client;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly log: EventLogRepository,
    private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    this.position = await this.log.lastId().catch(() => undefined);
    await this.listen();
    this.timer = setInterval(() => this.wake(), this.config.events.pollIntervalMs).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.client?.end().catch(() => undefined);
    await this.reading;
  }

  /** The id of the newest event handed to listeners (0 before the log could be read). */
  get lastSeenId(): bigint {
    return this.position ?? 0n;
  }

  subscribe(listener: TailListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads what is new now (coalesced: a wake during a read makes one more read after it). */
  wake(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.readNew()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'reading the event log failed; retrying at the next poll'))
      .finally(() => {
        this.reading = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async readNew(): Promise<void> {
    this.position ??= await this.log.lastId();
    for (;;) {
      const rows = await this.log.readAfter(this.position, PAGE);
      if (rows.length === 0) return;
      this.position = BigInt(rows[rows.length - 1].id);
      for (const listener of this.listeners) {
        try {
          listener(rows);
        } catch (error) {
          this.logger.error({ err: error }, 'event listener failed');
        }
      }
      if (rows.length < PAGE) return;
    }
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({
      connectionString: this.config.database.url,
      application_name: `whatsapp-gateway/${this.config.sessions.replicaId}/events`.slice(0, 63),
    });
    client.on('notification', () => this.wake());
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'event notifications lost; reconnecting (polling meanwhile)');
      void client.end().catch(() => undefined);
      if (this.client === client) this.client = undefined;
      setTimeout(() => void this.listen().catch(() => undefined), RECONNECT_DELAY_MS).unref();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      this.client = client;
      // Anything committed while (re)connecting.
      this.wake();
    } catch (error) {
      this.logger.warn({ err: error }, 'could not listen for event notifications; polling meanwhile');
      await client.end().catch(() => undefined);
      setTimeout(() => void this.listen().catch(() => undefined), RECONNECT_DELAY_MS).unref();
    }
  }
}
