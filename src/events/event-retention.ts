import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { JobQueue } from '../jobs/job-queue.service';
import { QUEUES } from '../jobs/job-queue';
import { EventLogRepository } from './event-log.repository';

const BATCH = 5000;
const EVERY_TEN_MINUTES = '*/10 * * * *';

/**
 * Deletes events older than EVENTS_RETENTION_HOURS (and their webhook deliveries with them), in
 * batches of 5000 so no statement holds many locks or runs long. A pg-boss schedule runs it on one
 * replica at a time.
 */
@Injectable()
export class EventRetention implements OnApplicationBootstrap {
  private readonly logger = new Logger('EventLog');

  constructor(
    private readonly log: EventLogRepository,
    private readonly jobs: JobQueue,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.jobs.whenStarted('event retention', async (boss) => {
      await boss.schedule(QUEUES.eventRetention, EVERY_TEN_MINUTES);
      await boss.work(QUEUES.eventRetention, async () => {
        await this.sweep();
      });
    });
  }

  /** Deletes every expired event; returns how many. */
  async sweep(now = Date.now()): Promise<number> {
    const before = now - this.config.events.retentionHours * 3_600_000;
    let total = 0;
    for (;;) {
      const deleted = await this.log.deleteOlderThan(before, BATCH);
      total += deleted;
      if (deleted < BATCH) break;
    }
    if (total > 0) this.logger.log({ deleted: total }, 'expired events deleted');
    return total;
  }
}
