import PgBoss from 'pg-boss';
import { JobQueuePool } from '../../src/jobs/job-queue-pool';
import { JOB_QUEUE_SCHEMA, QUEUES } from '../../src/jobs/job-queue';
import { IsolatedDatabase, isolatedDatabase } from '../support/isolated-database';

describe('Stopping the job queue while a job handler is still running', () => {
  let database: IsolatedDatabase;

  beforeAll(async () => {
    database = await isolatedDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  it("drops the completion of a job that outlived the stop's wait instead of failing the process", async () => {
    const pool = new JobQueuePool({ connectionString: database.url, max: 2 }, () => undefined);
    const boss = new PgBoss({ db: pool, schema: JOB_QUEUE_SCHEMA, migrate: false, supervise: false, schedule: false });
    const errors: unknown[] = [];
    boss.on('error', (error) => errors.push(error));
    await boss.start();

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let handlerStarted!: () => void;
    const started = new Promise<void>((resolve) => (handlerStarted = resolve));
    await boss.work(QUEUES.webhookDelivery, { pollingIntervalSeconds: 0.5 }, async () => {
      handlerStarted();
      await gate;
    });
    const jobId = await boss.send(QUEUES.webhookDelivery, { deliveryId: 'x', attempt: 1 });
    await started;

    // The stop's wait runs out with the job in progress: pg-boss fails it back to the queue, and the pool closes.
    await boss.stop({ graceful: true, wait: true, timeout: 1000 });
    await pool.close(1000);

    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // The handler ends now, and pg-boss (without awaiting it) completes the job on the closed pool.
      release();
      const late = pool.executeSql('SELECT 1').then(
        () => 'ran',
        () => 'refused',
      );
      const outcome = await Promise.race([late, new Promise((resolve) => setTimeout(() => resolve('dropped'), 200))]);
      expect(outcome).toBe('dropped');
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(errors).toEqual([]);

    // The job went back to the queue, to be worked again: the late completion changed nothing.
    const check = new PgBoss({ connectionString: database.url, schema: JOB_QUEUE_SCHEMA, migrate: false, supervise: false, schedule: false });
    check.on('error', () => undefined);
    await check.start();
    try {
      const job = await check.getJobById(QUEUES.webhookDelivery, jobId!);
      expect(job?.state).toBe('retry');
    } finally {
      await check.stop({ graceful: false, wait: true });
    }
  });
});
