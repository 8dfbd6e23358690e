import type PgBoss from 'pg-boss';
import { QUEUES } from '../jobs/job-queue';

/** A delivery attempt as queued: which delivery, and which attempt it is (1-based). */
export interface DeliveryJobData {
  deliveryId: string;
  attempt: number;
}

/**
 * The queue job of one attempt. If the replica working it dies, the job expires (after about
 * twice the HTTP timeout) and pg-boss hands it to another replica: the same attempt, the same
 * `webhook-id`. Its own retries are only for that; the retry schedule queues a new job per attempt.
 */
export function deliveryJob(deliveryId: string, attempt: number, timeoutMs: number, startAfter?: Date): PgBoss.JobInsert<DeliveryJobData> {
  return {
    name: QUEUES.webhookDelivery,
    data: { deliveryId, attempt },
    expireInSeconds: Math.ceil((2 * timeoutMs) / 1000) + 5,
    retryLimit: 20,
    retryDelay: 1,
    retryBackoff: true,
    ...(startAfter && { startAfter }),
  };
}
