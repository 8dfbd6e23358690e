import { CAPABILITIES } from '../../src/common/capabilities';
import { BAILEYS_SOCKET_FACTORY } from '../../src/whatsapp-sync/connection/baileys-socket';
import { FakeBaileysSocket, FakeSocketFactory } from './fake-baileys-socket';
import { IsolatedDatabase, isolatedDatabase } from './isolated-database';
import { TestApp, Tenant } from './test-app';
import { waitFor } from './wait-for';

const ALL = [...CAPABILITIES];

/**
 * An in-process gateway on a database of its own, its WhatsApp side at the engine seam: every
 * socket it opens is a FakeBaileysSocket (`sockets`) that records what the gateway sends and
 * carries, through Baileys' own event emitter, what the test says WhatsApp answers.
 */
export class SeamGateway {
  readonly sockets = new FakeSocketFactory();
  private database!: IsolatedDatabase;
  app!: TestApp;

  /** `env` on top of the database; the sessions it holds need SESSION_CAPACITY. */
  static async start(env: Record<string, string>): Promise<SeamGateway> {
    const gateway = new SeamGateway();
    gateway.database = await isolatedDatabase();
    gateway.app = await TestApp.start(
      { DATABASE_URL: gateway.database.url, ...env },
      { providers: [{ provide: BAILEYS_SOCKET_FACTORY, useValue: gateway.sockets.factory }] },
    );
    return gateway;
  }

  async stop(): Promise<void> {
    await this.app?.close();
    await this.database?.drop();
  }

  /** A new tenant whose session is started and connected: WhatsApp opened its socket. */
  async connected(capabilities = ALL): Promise<{ tenant: Tenant; socket: FakeBaileysSocket }> {
    const tenant = await this.app.createTenant(capabilities);
    await this.app.request(`/api/v1/sessions/${tenant.sessionId}/start`, { token: tenant.apiKey, method: 'POST' });
    return { tenant, socket: await openUntilConnected(this.app, this.sockets, tenant) };
  }
}

/**
 * Has WhatsApp open the session's socket, and every socket the gateway opens after it (on a loaded
 * machine a lease renewed late closes the connection and the replica opens another), until the
 * session is connected; returns the socket that is.
 */
export async function openUntilConnected(app: TestApp, sockets: FakeSocketFactory, tenant: Tenant): Promise<FakeBaileysSocket> {
  const opened = new Set<FakeBaileysSocket>();
  return waitFor(async () => {
    const socket = sockets.latest(tenant.sessionId);
    if (!socket) return undefined;
    if (!opened.has(socket)) {
      opened.add(socket);
      socket.user = { id: '6281234567890:12@s.whatsapp.net', name: 'Gateway' };
      socket.emit('connection.update', { connection: 'open' });
    }
    const status = (await app.request(`/api/v1/sessions/${tenant.sessionId}`, { token: tenant.apiKey })).body.status;
    return status === 'connected' && sockets.latest(tenant.sessionId) === socket ? socket : undefined;
  }, 60_000);
}
