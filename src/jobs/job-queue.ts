import PgBoss from 'pg-boss';
import type { DataSource } from 'typeorm';

/** pg-boss keeps its tables in a schema of its own. */
export const JOB_QUEUE_SCHEMA = 'pgboss';

/** Every queue the gateway uses, created with the schema (the migration step), never at run time. */
export const QUEUES = {
  /** One job per delivery attempt of a webhook (webhooks/webhook-worker.ts). */
  webhookDelivery: 'webhook-delivery',
  /** The event log's retention sweep, on a schedule (events/event-retention.ts). */
  eventRetention: 'event-retention',
} as const;

/** A pg-boss `db` that runs its statements through a TypeORM DataSource (or one of its transactions). */
export function jobQueueDb(query: (sql: string, params?: unknown[]) => Promise<unknown[]>): PgBoss.Db {
  return {
    // Without parameters pg-boss sends whole scripts (BEGIN; ...; COMMIT): they need the simple query protocol.
    executeSql: async (text, values) => ({ rows: await query(text, values && values.length > 0 ? values : undefined) }),
  };
}

/**
 * Installs or upgrades pg-boss's schema with pg-boss's own schema management (it takes its own
 * advisory lock, so replicas migrating together are safe), then creates the gateway's queues.
 * Called by the migration step (src/database/migrate.ts) right after the TypeORM migrations: the
 * running gateway starts pg-boss with `migrate: false` and never changes the schema itself.
 */
export async function installJobQueueSchema(dataSource: DataSource): Promise<void> {
  const boss = new PgBoss({
    db: jobQueueDb((sql, params) => dataSource.query(sql, params)),
    schema: JOB_QUEUE_SCHEMA,
    migrate: true,
    supervise: false,
    schedule: false,
  });
  boss.on('error', () => undefined);
  await boss.start();
  try {
    for (const name of Object.values(QUEUES)) await boss.createQueue(name, { name, retryLimit: 1000, retryDelay: 0 });
  } finally {
    await boss.stop({ graceful: false, wait: true, close: false });
  }
}
