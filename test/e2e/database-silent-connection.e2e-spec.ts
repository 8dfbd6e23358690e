import { createConnection, createServer, Server, Socket } from 'node:net';
import { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '../../src/common/errors/database-unavailable';
import { dataSourceOptions } from '../../src/database/data-source.options';

/** A loopback TCP proxy to PostgreSQL that can go silent: it keeps the connections open and forwards nothing. */
class FreezableProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private frozen = false;

  private constructor(private readonly upstream: URL) {
    this.server = createServer((client) => {
      const server = createConnection({ host: upstream.hostname, port: Number(upstream.port || 5432) });
      for (const [from, to] of [
        [client, server],
        [server, client],
      ] as const) {
        this.sockets.add(from);
        from.on('data', (chunk) => {
          if (!this.frozen) to.write(chunk);
        });
        from.on('error', () => to.destroy());
        from.on('close', () => {
          this.sockets.delete(from);
          to.destroy();
        });
      }
    });
  }

  static async start(databaseUrl: string): Promise<{ proxy: FreezableProxy; url: string }> {
    const upstream = new URL(databaseUrl);
    const proxy = new FreezableProxy(upstream);
    await new Promise<void>((done) => proxy.server.listen(0, '127.0.0.1', done));
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String((proxy.server.address() as { port: number }).port);
    return { proxy, url: url.toString() };
  }

  freeze(): void {
    this.frozen = true;
  }

  thaw(): void {
    this.frozen = false;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((done) => this.server.close(done));
  }
}

const STATEMENT_TIMEOUT_MS = 400;
/** The watchdog's limit is the statement timeout plus one second (data-source.options.ts). */
const SILENCE_LIMIT_MS = STATEMENT_TIMEOUT_MS + 1000;

describe('a database connection that goes silent', () => {
  let proxy: FreezableProxy;
  let dataSource: DataSource;

  beforeAll(async () => {
    const started = await FreezableProxy.start(process.env.DATABASE_URL!);
    proxy = started.proxy;
    dataSource = await new DataSource(dataSourceOptions({ url: started.url, poolMax: 2, statementTimeoutMs: STATEMENT_TIMEOUT_MS })).initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy().catch(() => undefined);
    await proxy?.stop();
  });

  it('fails its query within the limit instead of hanging, and the pool recovers with a new connection', async () => {
    expect(await dataSource.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    proxy.freeze();
    let error: unknown;
    let elapsed: number;
    try {
      const startedAt = Date.now();
      error = await dataSource.query('SELECT 2 AS two').then(
        () => undefined,
        (failure: unknown) => failure,
      );
      elapsed = Date.now() - startedAt;
    } finally {
      // Thawed whatever happened: a proxy left frozen fails every later test of the file.
      proxy.thaw();
    }
    expect(String(error)).toMatch(/no progress/);
    // What the error filter answers with 503 unavailable, as for any unreachable database.
    expect(isDatabaseUnavailable(error)).toBe(true);
    // Not before the limit; after it, as soon as the watchdog's timer runs, which a loaded machine delays
    // (3.8 s for a 1.4 s limit in a CI run beside two others): "fails instead of hanging" is what is checked.
    expect(elapsed).toBeGreaterThanOrEqual(SILENCE_LIMIT_MS - 50);
    expect(elapsed).toBeLessThan(SILENCE_LIMIT_MS + 20_000);

    expect(await dataSource.query('SELECT 3 AS three')).toEqual([{ three: 3 }]);
  }, 60_000);

  it('leaves alone a connection that keeps answering, however long its transaction lasts', async () => {
    // Four statements of 300 ms in one transaction: 1.2 s in all, under the limit each.
    const result = await dataSource.transaction(async (manager) => {
      for (let i = 0; i < 4; i++) await manager.query('SELECT pg_sleep(0.3)');
      return manager.query('SELECT 4 AS four');
    });
    expect(result).toEqual([{ four: 4 }]);
    const parallel = await Promise.all(Array.from({ length: 20 }, (_, i) => dataSource.query('SELECT $1::int AS n', [i])));
    expect(parallel.map(([row]) => row.n)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  }, 20_000);

  it('still lets PostgreSQL end a statement that runs too long, with its own error', async () => {
    await expect(dataSource.query('SELECT pg_sleep(2)')).rejects.toThrow(/statement timeout/);
    expect(await dataSource.query('SELECT 5 AS five')).toEqual([{ five: 5 }]);
  }, 20_000);
});
