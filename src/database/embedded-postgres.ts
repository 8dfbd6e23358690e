import { Logger } from '@nestjs/common';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { PostgresCluster, PostgresStartError, shortHash, SUPERUSER, SUPERUSER_PASSWORD } from './postgres-cluster';

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** Unset: a port of the data folder's own (see portForDataDir), so two clones never share a server. */
  port?: number;
  database?: string;
  /** Where progress lines go (the CLI sends them to stderr to keep stdout for its output). */
  log?: (message: string) => void;
}

export interface EmbeddedPostgresHandle {
  url: string;
  /** Stops the server if this process started it; a no-op when another process owns it. */
  stop(): Promise<void>;
}

/** Default ports: 54400-55399, one per data folder. */
const PORT_BASE = 54_400;
const PORT_SPAN = 1000;

/** The default port of a data folder: stable for the folder, different for another clone's (but for a 1 in 1000 clash, which start-up reports). */
export function portForDataDir(dataDir: string): number {
  return PORT_BASE + (parseInt(shortHash(resolve(dataDir)).slice(0, 8), 16) % PORT_SPAN);
}

/**
 * Runs a real PostgreSQL for machines with no database (`npm start` with no DATABASE_URL, the test
 * suite without one, the CLI). The server belongs to its data folder: when a live server already
 * holds the folder (the gateway started it and the CLI runs beside it), it is reused, on the port
 * its postmaster.pid names; a server of another folder on the port is never used.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const database = options.database ?? 'gateway';
  const logger = new Logger('EmbeddedPostgres');
  const log = options.log ?? ((message: string) => logger.log(message));
  const port = options.port ?? portForDataDir(options.dataDir);
  const cluster = await PostgresCluster.prepare({ dataDir: options.dataDir, port, log });
  const running = await PostgresCluster.runningServer(cluster.dataDir);
  if (running) {
    await ensureDatabase(running.port, database);
    return { url: urlFor(running.port, database), stop: async () => undefined };
  }
  try {
    await cluster.start();
  } catch (error) {
    if (error instanceof PostgresStartError && error.portInUse) throw new EmbeddedPostgresPortInUseError(port, cluster.dataDir, await dataDirectoryOn(port));
    throw error;
  }
  await ensureDatabase(port, database);
  log(`embedded PostgreSQL listening on 127.0.0.1:${port} (data in ${cluster.dataDir})`);
  return { url: urlFor(port, database), stop: () => cluster.stop() };
}

/** Start-up stops with this: the port is taken, by another folder's embedded PostgreSQL or another program. */
export class EmbeddedPostgresPortInUseError extends Error {
  constructor(port: number, dataDir: string, otherDataDir: string | undefined) {
    super(
      `The embedded PostgreSQL for ${dataDir} cannot use port ${port}: ` +
        (otherDataDir ? `the embedded PostgreSQL of another folder (${otherDataDir}) listens there. ` : 'another program listens there. ') +
        'Set EMBEDDED_POSTGRES_PORT to a free port (or stop the other server), or set DATABASE_URL to use a PostgreSQL of your own.',
    );
    this.name = 'EmbeddedPostgresPortInUseError';
  }
}

function urlFor(port: number, database: string): string {
  return `postgres://${SUPERUSER}:${SUPERUSER_PASSWORD}@127.0.0.1:${port}/${database}`;
}

/** The data folder of an embedded PostgreSQL on `port`, if that is what listens there. */
async function dataDirectoryOn(port: number): Promise<string | undefined> {
  const client = new Client({ host: '127.0.0.1', port, user: SUPERUSER, password: SUPERUSER_PASSWORD, database: 'postgres', connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
    return rows[0]?.data_directory;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureDatabase(port: number, database: string): Promise<void> {
  const client = new Client({ host: '127.0.0.1', port, user: SUPERUSER, password: SUPERUSER_PASSWORD, database: 'postgres' });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
