import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source.options';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { runPendingMigrations } from '../../src/database/migrate';
import { refusingWebSocketUrl } from './loopback';
import { createFreshDatabase } from './test-database';

/**
 * Every test run gets a database of its own: on the server DATABASE_URL names (CI: 127.0.0.1:5432),
 * or, with no DATABASE_URL, on an embedded PostgreSQL started here. Migrations run once, up front.
 */
export default async function globalSetup(): Promise<void> {
  const embedded = process.env.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: process.env.TEST_EMBEDDED_POSTGRES_DIR ?? '.data/postgres-test',
        // Unset: the folder's own port, so two clones' test runs never share a server.
        port: process.env.TEST_EMBEDDED_POSTGRES_PORT ? Number(process.env.TEST_EMBEDDED_POSTGRES_PORT) : undefined,
        database: 'postgres',
        log: (line) => process.stderr.write(`${line}\n`),
      });
  const serverUrl = process.env.DATABASE_URL ?? embedded!.url;
  const database = await createFreshDatabase(serverUrl);
  const dataSource = await new DataSource(dataSourceOptions({ url: database.url })).initialize();
  await runPendingMigrations(dataSource);
  await dataSource.destroy();

  process.env.TEST_SERVER_DATABASE_URL = serverUrl;
  process.env.DATABASE_URL = database.url;
  // No process of the test run (in-process apps, and the gateways tests spawn: demo, replicas) may
  // reach WhatsApp: by default a gateway holds no connection, and Baileys could only reach a
  // loopback port that refuses. Tests that connect sessions set their own capacity.
  process.env.SESSION_CAPACITY ??= '0';
  process.env.WHATSAPP_WS_URL ??= await refusingWebSocketUrl();
  (globalThis as Record<string, unknown>).__testDatabase = { serverUrl, name: database.name, stopEmbedded: embedded?.stop };
}
