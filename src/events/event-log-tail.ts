import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig } from '../config/app-config';
import { EventLogRepository } from './event-log.repository';
import type { EventRow } from './gateway-event';

/** The channel the log's publisher notifies with the newest event id (migration 1765018000000). */
export const EVENTS_CHANNEL = 'gateway_events';
const PAGE = 1000;
const RECONNECT_DELAY_MS = 1000;
/** How soon a read stopped at a missing id looks again (a committing transaction's NOTIFY usually comes first). */
const GAP_RECHECK_MS = 50;

/**
 * Every number the sequence had handed out up to `through` was taken by a transaction that had
 * ended, or was one of `numbering` (the transactions holding the event log's numbering lock, read
 * after the sequence): once none of those holds it any more, every event up to `through` is
 * visible or will never be.
 */
interface Checkpoint {
  through: bigint;
  numbering: string[];
}

export type TailListener = (events: readonly EventRow[]) => void;

/**
 * This replica's view of the end of the event log: it follows the log in id order (woken by
 * PostgreSQL NOTIFY from whichever replica or process committed, and polling every
 * EVENTS_POLL_INTERVAL_MS in case a notification was missed) and hands each new event, once, to
 * every listener. One reader per replica, however many streams are open.
 *
 * Transactions number their events as they commit, concurrently (migration 1796590000000), so an
 * id may become visible after a higher one. The tail hands out an event only when every id below
 * it is settled: visible, or taken by a transaction that has ended without it (rolled back). A
 * missing id holds the tail until its transaction commits (its NOTIFY wakes the tail) or is known
 * to have ended: every numbering transaction holds the numbering lock in shared mode from before it
 * takes a number until its commit is visible, so once the transactions that held it when the gap
 * was seen have let go, the gap is final. `settledThrough` is the bound every other reader of the
 * log reads up to, so no reader ever finds a new event below one it has seen.
 */
@Injectable()
export class EventLogTail implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('EventLog');
  private readonly listeners = new Set<TailListener>();
  /** Every event up to here was handed out or is settled as never to be; unknown until the log was first read (the replica may boot before the migrations ran). */
  private position?: bigint;
  /** The sequence's end when the tail started: the numbers up to it must settle before others read up to the position (`settledThrough`). */
  private startedAt?: bigint;
  /** What the tail waits on to settle a missing id (or the numbers taken before it started). */
  private checkpoint?: Checkpoint;
  /** Every number up to here is visible or will never be. */
  private settledNumbers = 0n;
  private recheck?: NodeJS.Timeout;
  private readonly settledWaiters: (() => void)[] = [];
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
    await this.listen();
    this.timer = setInterval(() => this.wake(), this.config.events.pollIntervalMs).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.recheck);
    // Whoever waits for the horizon sees the tail stopped.
    this.settledWaiters.splice(0).forEach((resolve) => resolve());
    await this.client?.end().catch(() => undefined);
    await this.reading;
  }

  /** Where listeners are: the newest id handed to them, or settled past (0 before the log could be read). A stream "from now" starts here. */
  get lastSeenId(): bigint {
    return this.position ?? 0n;
  }

  /**
   * The id up to which the log is settled: no event at or below it can still appear. Undefined
   * until the numbers taken before the tail started are settled too (usually at its first read).
   */
  get settledThrough(): bigint | undefined {
    return this.startedAt !== undefined && this.settledNumbers >= this.startedAt ? this.position : undefined;
  }

  /** `settledThrough`, once known. */
  async settled(): Promise<bigint> {
    while (this.settledThrough === undefined) {
      if (this.stopped) throw new Error('the event log tail has stopped');
      await new Promise<void>((resolve) => {
        this.settledWaiters.push(resolve);
        this.wake();
      });
    }
    return this.settledThrough;
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
    if (this.position === undefined) {
      // The first read starts at the end: what was numbered before it is not handed out, but must settle before others read up to it.
      const checkpoint = await this.takeCheckpoint();
      this.startedAt = this.position = checkpoint.through;
    }
    for (;;) {
      // Before the rows: a checkpoint found settled here covers what the rows' (later) snapshot shows.
      await this.settleCheckpoint();
      if (this.settledThrough !== undefined) this.settledWaiters.splice(0).forEach((resolve) => resolve());
      const rows = await this.log.readAfter(this.position, PAGE);
      const ready = this.handOut(rows);
      if (ready < rows.length) {
        // Stopped at a missing id: a transaction still committing (its NOTIFY wakes the tail) or one that rolled back.
        if (!this.checkpoint || this.checkpoint.through < BigInt(rows[ready].id)) await this.takeCheckpoint();
        this.recheckSoon();
        return;
      }
      if (this.settledThrough === undefined) this.recheckSoon();
      if (rows.length < PAGE) return;
    }
  }

  /** Hands out the rows that follow the position without an unsettled gap; returns how many. */
  private handOut(rows: EventRow[]): number {
    let count = 0;
    for (const row of rows) {
      const id = BigInt(row.id);
      if (id !== this.position! + 1n && id - 1n > this.settledNumbers) break;
      this.position = id;
      count++;
    }
    if (count > 0) this.notify(count === rows.length ? rows : rows.slice(0, count));
    return count;
  }

  /** The sequence's end, then who holds the numbering lock: see Checkpoint. A newer checkpoint replaces the pending one (it covers it). */
  private async takeCheckpoint(): Promise<Checkpoint> {
    const through = await this.log.numberedThrough();
    this.checkpoint = { through, numbering: await this.log.numberingTransactions() };
    return this.checkpoint;
  }

  private async settleCheckpoint(): Promise<void> {
    const checkpoint = this.checkpoint;
    if (!checkpoint) return;
    if (checkpoint.numbering.length > 0 && (await this.log.stillNumbering(checkpoint.numbering))) return;
    if (checkpoint.through > this.settledNumbers) this.settledNumbers = checkpoint.through;
    if (this.checkpoint === checkpoint) this.checkpoint = undefined;
  }

  private notify(rows: readonly EventRow[]): void {
    for (const listener of this.listeners) {
      try {
        listener(rows);
      } catch (error) {
        this.logger.error({ err: error }, 'event listener failed');
      }
    }
  }

  private recheckSoon(): void {
    if (this.recheck || this.stopped) return;
    this.recheck = setTimeout(() => {
      this.recheck = undefined;
      this.wake();
    }, GAP_RECHECK_MS).unref();
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
