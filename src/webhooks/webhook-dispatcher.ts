import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { EventLogRepository } from '../events/event-log.repository';
import { EventLogTail } from '../events/event-log-tail';
import type { EventRouting } from '../events/gateway-event';
import { jobQueueDb } from '../jobs/job-queue';
import { JobQueue } from '../jobs/job-queue.service';
import { deliveryJob } from './delivery-job';
import { NewDelivery, WebhookRow, WebhooksRepository } from './webhooks.repository';
import { WebhookWorker } from './webhook-worker';
import { newUlid } from '../common/ulid';

const PAGE = 1000;

type Subscription = Pick<WebhookRow, 'id' | 'org_id' | 'event_types' | 'session_id' | 'starts_after_event'>;

/** Whether the webhook wants the event: its org, one of its types, its session if it has one, numbered after the newest event visible when it was created. */
export function wants(webhook: Subscription, event: EventRouting): boolean {
  return (
    webhook.org_id === event.org_id &&
    webhook.event_types.includes(event.type) &&
    (webhook.session_id === null || webhook.session_id === event.session_id) &&
    BigInt(event.id) > BigInt(webhook.starts_after_event)
  );
}

/**
 * Turns the event log into webhook deliveries: reads the events after the shared dispatch
 * position, creates one delivery per (event, webhook that wants it) and queues its first attempt,
 * and moves the position, all in one transaction. Any replica may run it; the position row is
 * locked (SKIP LOCKED), so one dispatches at a time and a crash in between changes nothing.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly log: EventLogRepository,
    private readonly tail: EventLogTail,
    private readonly jobs: JobQueue,
    private readonly workers: WebhookWorker,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.unsubscribe = this.tail.subscribe(() => this.wake());
    // Also on a timer: a wake that found the position locked by another replica's dispatch is not lost.
    this.timer = setInterval(() => this.wake(), this.config.events.pollIntervalMs).unref();
    this.wake();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.timer);
    await this.running;
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.dispatchAll()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'dispatching webhook deliveries failed; retrying at the next poll'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Dispatches until the log is caught up (or another replica holds the position). */
  async dispatchAll(): Promise<void> {
    // No webhook enabled anywhere: one statement moves the position, instead of a page's transaction
    // (six round trips) at every wake of the tail, on every replica. Measured in the accept bench
    // (no webhooks there): 1,270-1,382 accepts/s with the page transactions, 1,405-1,566 without.
    // Before the tail has settled anything there is nothing to dispatch; the tail's next events or the poll timer wake it again.
    const settled = this.tail.settledThrough;
    if (settled === undefined || (await this.webhooks.skipDispatchWithoutWebhooks(settled))) return;
    for (;;) {
      const { caughtUp, deliveries } = await this.dispatchPage();
      if (deliveries > 0) this.workers.wake(deliveries);
      if (this.stopped || caughtUp) return;
    }
  }

  /**
   * The events of the next PAGE ids after the position, up to the settled horizon (a later event
   * may still take a lower id above it; the tail wakes the dispatcher as it moves). A range of ids,
   * not "the next PAGE events": whatever plan PostgreSQL picks, a page reads at most PAGE rows. As
   * `id > position AND id <= horizon ... LIMIT`, a plan from stale statistics read every event up
   * to the horizon and sorted them, per page: a replica starting behind 119,000 events read 7.1
   * million rows to catch up (the bench's database, which is never analyzed). Every id of the range
   * is settled, so the position moves to its end, events or not.
   */
  private async dispatchPage(): Promise<{ caughtUp: boolean; deliveries: number }> {
    const boss = await this.jobs.started();
    return this.webhooks.transaction(async (manager) => {
      const position = await this.webhooks.lockDispatchPosition(manager);
      const settled = this.tail.settledThrough;
      if (position === undefined || settled === undefined || settled <= position) return { caughtUp: true, deliveries: 0 };
      const upTo = settled < position + BigInt(PAGE) ? settled : position + BigInt(PAGE);
      const events = await this.log.readRoutingAfter(position, upTo, PAGE, manager);
      await this.webhooks.setDispatchPosition(manager, upTo);
      if (events.length === 0) return { caughtUp: upTo === settled, deliveries: 0 };
      const subscriptions = await this.webhooks.enabledWebhooksOf(manager, [...new Set(events.map((event) => event.org_id))]);
      const deliveries: NewDelivery[] = [];
      for (const event of events) {
        for (const webhook of subscriptions)
          if (wants(webhook, event)) deliveries.push({ id: newUlid(), webhook_id: webhook.id, event_id: event.id, replay: false });
      }
      await this.webhooks.insertDeliveries(manager, deliveries);
      if (deliveries.length > 0) {
        await boss.insert(
          deliveries.map((delivery) => deliveryJob(delivery.id, 1, this.config.webhooks.timeoutMs)),
          { db: jobQueueDb((sql, params) => manager.query(sql, params)) },
        );
      }
      return { caughtUp: upTo === settled, deliveries: deliveries.length };
    });
  }
}
