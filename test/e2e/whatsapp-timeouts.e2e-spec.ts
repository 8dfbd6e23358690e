import { createServer, Server, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { Capability } from '../../src/common/capabilities';
import { IsolatedDatabase, isolatedDatabase } from '../support/isolated-database';
import { TestApp, Tenant } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const ALL: Capability[] = ['read', 'send', 'manage', 'admin'];
const TIMED_OUT = 'WhatsApp could not be reached: the connection timed out (ETIMEDOUT)';

/**
 * A WhatsApp that does not answer is reported as a timeout, not as a reason WhatsApp gave: the
 * real Baileys socket against loopback servers that accept and then stay silent, at the TCP level
 * (the WebSocket upgrade never answered) and at the WebSocket level (the Noise handshake never
 * answered). Before, the first read "network error" and the second "Timed Out", as if WhatsApp had said it.
 */
describe('WhatsApp that accepts and never answers', () => {
  const sockets = new Set<Socket>();
  let silentTcp: Server;
  let silentWs: WebSocketServer;
  let apps: TestApp[] = [];
  // A database of its own: in the shared one, running sessions other suites left behind would take
  // the replica's capacity before this test's session.
  let database: IsolatedDatabase;

  beforeAll(async () => {
    database = await isolatedDatabase();
    silentTcp = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silentTcp.listen(0, '127.0.0.1', resolve));
    silentWs = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => silentWs.once('listening', resolve));
  });
  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    for (const client of silentWs.clients) client.terminate();
    await new Promise((resolve) => silentTcp.close(resolve));
    await new Promise((resolve) => silentWs.close(resolve));
    await database.drop();
  });

  async function lastErrorAgainst(url: string): Promise<string> {
    const app = await TestApp.start({
      DATABASE_URL: database.url,
      SESSION_CAPACITY: '5',
      WHATSAPP_WS_URL: url,
      WHATSAPP_CONNECT_TIMEOUT_MS: '1000',
      RECONNECT_BASE_DELAY_MS: '100',
      RECONNECT_MAX_DELAY_MS: '400',
    });
    apps.push(app);
    const tenant: Tenant = await app.createTenant(ALL);
    await app.request(`/api/v1/sessions/${tenant.sessionId}/start`, { token: tenant.apiKey, method: 'POST' });
    return waitFor(async () => {
      const body = (await app.request(`/api/v1/sessions/${tenant.sessionId}`, { token: tenant.apiKey })).body as { lastError: string | null };
      return body.lastError ?? undefined;
    }, 30_000);
  }

  it('a WebSocket upgrade never answered is a timeout', async () => {
    const { port } = silentTcp.address() as { port: number };
    expect(await lastErrorAgainst(`ws://127.0.0.1:${port}/ws/chat`)).toBe(TIMED_OUT);
  });

  it('a handshake never answered is a timeout', async () => {
    const { port } = silentWs.address() as { port: number };
    expect(await lastErrorAgainst(`ws://127.0.0.1:${port}/ws/chat`)).toBe(TIMED_OUT);
  });
});
