import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { AppConfig } from './config/app-config';
import { dataSourceOptions } from './database/data-source.options';
import { startEmbeddedPostgres } from './database/embedded-postgres';
import { runPendingMigrations } from './database/migrate';
import { describeStartupFailure } from './lifecycle/startup-failure';

/** `npm run migration:run`: applies pending migrations and exits (a Kubernetes Job or init container). */
async function main(): Promise<void> {
  const config = AppConfig.fromEnvironment();
  const embedded = config.database.url
    ? undefined
    : await startEmbeddedPostgres({ ...config.database.embedded, log: (line) => process.stderr.write(`${line}\n`) });
  const url = config.database.url ?? embedded!.url;
  const dataSource = await new DataSource(dataSourceOptions({ ...config.database, url })).initialize();
  try {
    const applied = await runPendingMigrations(dataSource);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'no pending migrations');
  } finally {
    await dataSource.destroy();
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(describeStartupFailure(error));
  process.exit(1);
});
