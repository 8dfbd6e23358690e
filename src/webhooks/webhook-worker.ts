import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type PgBoss from 'pg-boss';
import { AppConfig } from '../config/app-config';
import { EventLogRepository } from '../events/event-log.repository';
import { GatewayEvent } from '../events/gateway-event';
import { jobQueueDb, QUEUES } from '../jobs/job-queue';
import { JobQueue } from '../jobs/job-queue.service';
import { DeliveryJobData, deliveryJob } from './delivery-job';
import { retryDelayMs } from './retry-schedule';
import { DeliveryOutcome, WebhookSender } from './webhook-sender';
import { signedHeaders } from './webhook-signing';
import { WebhookSecrets } from './webhook-secrets';
import { AttemptRecord, DeliveryWork, WebhooksRepository } from './webhooks.repository';
import { WebhookResponse } from './dto/webhook.response';

const EXHAUSTED = 'deliveries kept failing for the whole retry schedule';

interface Attempt {
  job: PgBoss.Job<DeliveryJobData>;
  work: DeliveryWork;
  outcome: DeliveryOutcome;
}

/** One pg-boss worker of this replica: its id once registered, and whether it is working a batch. */
interface DeliveryWorker {
  id?: string;
  busy: boolean;
}

/**
 * Works the delivery queue: each job is one attempt of one delivery. Attempts of a batch are sent
 * concurrently; their outcomes, the retries they call for (a new job per attempt, on the retry
 * schedule, with jitter) and a webhook disabled when a delivery used up the schedule are written
 * in one transaction. A job repeated after a crash finds its attempt recorded or sends it again
 * with the same `webhook-id`: at least once.
 */
@Injectable()
export class WebhookWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private readonly workers: DeliveryWorker[] = [];

  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly log: EventLogRepository,
    private readonly secrets: WebhookSecrets,
    private readonly sender: WebhookSender,
    private readonly jobs: JobQueue,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.jobs.whenStarted('webhook delivery', async (boss) => {
      for (let i = 0; i < this.config.webhooks.workers; i++) {
        const worker: DeliveryWorker = { busy: false };
        this.workers.push(worker);
        worker.id = await boss.work<DeliveryJobData>(
          QUEUES.webhookDelivery,
          { batchSize: this.config.webhooks.batchSize, pollingIntervalSeconds: this.config.webhooks.pollIntervalMs / 1000 },
          (jobs) => this.work(worker, jobs),
        );
      }
    });
  }

  /**
   * `deliveries` new jobs were queued on this replica: as many workers as they fill batches fetch
   * now instead of at their next poll, idle ones first (a busy one that is told fetches again as
   * soon as its batch is done). The others keep polling, so nothing waits on this.
   */
  wake(deliveries: number): void {
    const wanted = Math.ceil(deliveries / this.config.webhooks.batchSize);
    const idleFirst = [...this.workers.filter((worker) => !worker.busy), ...this.workers.filter((worker) => worker.busy)];
    for (const worker of idleFirst.slice(0, wanted)) if (worker.id) this.jobs.boss.notifyWorker(worker.id);
  }

  /** After the job queue has stopped (ShutdownCoordinator), no attempt is in flight: close the kept-alive connections. */
  onApplicationShutdown(): void {
    this.sender.close();
  }

  /**
   * One fetched batch. pg-boss waits out the rest of its polling interval after a batch, even when
   * more jobs wait: a worker whose batch came back full (the queue probably holds more) is told to
   * fetch again at once, so a backlog is worked as fast as the workers send, not a batch per
   * worker per interval (that capped a replica at 4 x 50 / 0.5 s = 400 deliveries/s).
   */
  private async work(worker: DeliveryWorker, jobs: PgBoss.Job<DeliveryJobData>[]): Promise<void> {
    worker.busy = true;
    try {
      await this.deliver(jobs);
    } finally {
      worker.busy = false;
    }
    // Not after a failure (the database refused, say): pg-boss fails the jobs back with a backoff, and the worker waits its polling interval.
    if (jobs.length >= this.config.webhooks.batchSize && worker.id) this.jobs.boss.notifyWorker(worker.id);
  }

  async deliver(jobs: PgBoss.Job<DeliveryJobData>[]): Promise<void> {
    const work = new Map((await this.webhooks.loadWork(jobs.map((job) => job.data.deliveryId))).map((item) => [item.delivery_id, item]));
    const abandoned: string[] = [];
    const sends: Promise<Attempt>[] = [];
    // A batch mostly goes to a few webhooks: each one's secrets are decrypted once per batch, not per attempt.
    const keys = new Map<string, Buffer[]>();
    for (const job of jobs) {
      const item = work.get(job.data.deliveryId);
      // Gone with its webhook or event, finished, or this attempt already recorded: nothing to do.
      if (!item || item.status !== 'pending' || item.attempts >= job.data.attempt) continue;
      if (!item.webhook.enabled) {
        abandoned.push(item.delivery_id);
        continue;
      }
      let signingKeys = keys.get(item.webhook.id);
      if (!signingKeys) keys.set(item.webhook.id, (signingKeys = this.secrets.signingKeys(item.webhook)));
      sends.push(this.attempt(item, signingKeys).then((outcome) => ({ job, work: item, outcome })));
    }
    const attempts = await Promise.all(sends);
    await this.record(attempts, abandoned);
  }

  private attempt(item: DeliveryWork, signingKeys: readonly Buffer[]): Promise<DeliveryOutcome> {
    const event = GatewayEvent.fromRow(item.event);
    const body = JSON.stringify(event);
    const headers = signedHeaders(signingKeys, event.id, new Date(), body);
    return this.sender.send({ url: item.webhook.url, headers, body });
  }

  private async record(attempts: Attempt[], abandoned: string[]): Promise<void> {
    if (attempts.length === 0 && abandoned.length === 0) return;
    const boss = await this.jobs.started();
    const schedule = this.config.webhooks.retryDelaysMs;
    const now = Date.now();
    const records: AttemptRecord[] = [];
    const retries = new Map<string, Date>();
    const exhausted = new Set<string>();
    for (const { job, work, outcome } of attempts) {
      const attempt = job.data.attempt;
      const delay = outcome.ok ? undefined : retryDelayMs(attempt, schedule);
      if (!outcome.ok && delay !== undefined) retries.set(work.delivery_id, new Date(now + delay));
      if (!outcome.ok && delay === undefined) exhausted.add(work.delivery_id);
      records.push({
        id: work.delivery_id,
        status: outcome.ok ? 'delivered' : delay === undefined ? 'failed' : 'pending',
        attempts: attempt,
        response_status: outcome.status,
        duration_ms: outcome.durationMs,
        error: outcome.error,
        response_excerpt: outcome.excerpt,
        next_attempt_at: retries.get(work.delivery_id)?.toISOString() ?? null,
      });
    }
    await this.webhooks.transaction(async (manager) => {
      await this.webhooks.abandon(manager, abandoned, 'the webhook is disabled');
      const recorded = await this.webhooks.recordAttempts(manager, records);
      const fresh = attempts.filter(({ work }) => recorded.has(work.delivery_id));
      const retryJobs = fresh
        .filter(({ work }) => retries.has(work.delivery_id))
        .map(({ job, work }) => deliveryJob(work.delivery_id, job.data.attempt + 1, this.config.webhooks.timeoutMs, retries.get(work.delivery_id)));
      if (retryJobs.length > 0) await boss.insert(retryJobs, { db: jobQueueDb((sql, params) => manager.query(sql, params)) });
      await this.webhooks.recordHealth(
        manager,
        [...new Set(fresh.filter(({ outcome }) => outcome.ok).map(({ work }) => work.webhook.id))],
        [...new Set(fresh.filter(({ outcome }) => !outcome.ok).map(({ work }) => work.webhook.id))],
      );
      // A delivery that used up the schedule (recorded by this attempt, not by a repeated job) disables its webhook.
      for (const webhookId of new Set(fresh.filter(({ work }) => exhausted.has(work.delivery_id)).map(({ work }) => work.webhook.id))) {
        const disabled = await this.webhooks.disable(manager, webhookId, EXHAUSTED);
        if (!disabled) continue;
        this.logger.warn({ webhookId, orgId: disabled.org_id }, 'webhook disabled: its deliveries kept failing');
        await this.log.stage(manager, { type: 'webhook.disabled', orgId: disabled.org_id, sessionId: null, data: { ...WebhookResponse.fromRow(disabled) } });
      }
    });
  }
}
