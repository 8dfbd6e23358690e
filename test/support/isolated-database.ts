import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source.options';
import { runPendingMigrations } from '../../src/database/migrate';
import { createFreshDatabase, dropDatabase } from './test-database';

export interface IsolatedDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A migrated database of its own, for tests whose replicas claim every running session they see
 * (leases, connection lifecycle): other test files' sessions and replicas stay out of their way.
 * Also for any test that changes the schema in a way other tests would meet (renames a column, say):
 * test files run side by side on the run's shared database, and would meet the change.
 */
export async function isolatedDatabase(): Promise<IsolatedDatabase> {
  const serverUrl = process.env.TEST_SERVER_DATABASE_URL ?? process.env.DATABASE_URL!;
  const database = await createFreshDatabase(serverUrl, 'gw_test_iso');
  const dataSource = await new DataSource(dataSourceOptions({ url: database.url })).initialize();
  try {
    await runPendingMigrations(dataSource);
  } finally {
    await dataSource.destroy();
  }
  return {
    url: database.url,
    drop: () => (process.env.KEEP_TEST_DATABASE ? Promise.resolve() : dropDatabase(serverUrl, database.name)),
  };
}
