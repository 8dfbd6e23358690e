import { DataSource } from 'typeorm';
import { installJobQueueSchema } from '../jobs/job-queue';

// Any constant works; it only has to be the same for every replica of the gateway.
const MIGRATION_LOCK_KEY = 7_413_902_118;

/**
 * Applies pending migrations. Replicas that start together serialise on an advisory lock held
 * for the duration, so exactly one of them migrates and the others find nothing left to do. The
 * job queue's schema (pg-boss) is installed or upgraded in the same step.
 */
export async function runPendingMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    // The job queue's own tables, by the job queue library's own schema management (jobs/job-queue.ts).
    await installJobQueueSchema(dataSource);
    return applied.map((migration) => migration.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}
