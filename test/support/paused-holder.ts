import type { Pool, PoolClient } from 'pg';
import { BAILEYS_SOCKET_FACTORY } from '../../src/whatsapp-sync/connection/baileys-socket';
import { FakeBaileysSocket, FakeSocketFactory } from './fake-baileys-socket';
import { TestApp, Tenant } from './test-app';
import { waitFor } from './wait-for';

/**
 * Two replicas over one database, the first of which can be paused as a long GC or a network
 * partition pauses a holder: every connection of its small pool taken away, so it can neither
 * renew its lease nor write, while the second takes the session over. Used by the fencing tests
 * (sync-fencing, send-message-takeover).
 */

/**
 * Connections of the pausable replica's pool. With 3, on a machine loaded to 10 on 2 cores, the
 * replica's own work (sync, outbox, event tail, requests) kept the lease renewal waiting for a
 * connection past its deadline: it dropped and re-took the session before the test paused it.
 */
export const PAUSABLE_POOL_MAX = 8;

/**
 * Lease timings short enough that a takeover happens within a test, and long enough that a loaded
 * machine does not lose a lease by a late renewal.
 */
export const FAST_TAKEOVER_ENV = {
  SESSION_CAPACITY: '10',
  SESSION_LEASE_TTL_MS: '5000',
  SESSION_LEASE_RENEW_INTERVAL_MS: '500',
  SESSION_TAKEOVER_JITTER_MS: '50',
  SESSION_COMMAND_POLL_MS: '50',
};

/** A replica whose WhatsApp sockets are fakes made by `sockets`. */
export function startReplica(sockets: FakeSocketFactory, env: Record<string, string>): Promise<TestApp> {
  return TestApp.start({ ...FAST_TAKEOVER_ENV, ...env }, { providers: [{ provide: BAILEYS_SOCKET_FACTORY, useValue: sockets.factory }] });
}

/** A replica that can be paused: a small pool, and a connection wait longer than any pause (a queued write waits, it does not time out). */
export function startPausableReplica(sockets: FakeSocketFactory, env: Record<string, string>): Promise<TestApp> {
  return startReplica(sockets, { ...env, DATABASE_POOL_MAX: String(PAUSABLE_POOL_MAX), DATABASE_CONNECT_TIMEOUT_MS: '60000' });
}

/** Takes every connection of the replica's pool; the returned function gives them back. */
export async function pause(app: TestApp): Promise<() => void> {
  const pool = (app.dataSource.driver as unknown as { master: Pool }).master;
  const taken: PoolClient[] = await Promise.all(Array.from({ length: PAUSABLE_POOL_MAX }, () => pool.connect()));
  return () => {
    for (const client of taken) client.release();
  };
}

/**
 * The session's connection on `app`, opened as Alice's phone (on whichever socket the connection
 * made last); `prepare` runs on each socket before it opens.
 */
export async function openedSocket(
  app: TestApp,
  sockets: FakeSocketFactory,
  tenant: Tenant,
  prepare: (socket: FakeBaileysSocket) => void = () => undefined,
): Promise<FakeBaileysSocket> {
  const openedSockets = new Set<FakeBaileysSocket>();
  await waitFor(async () => {
    const socket = sockets.latest(tenant.sessionId);
    if (socket && !socket.closed && !openedSockets.has(socket)) {
      openedSockets.add(socket);
      prepare(socket);
      socket.user = { id: '6281234567890:12@s.whatsapp.net', name: 'Alice' };
      socket.emit('connection.update', { connection: 'open' });
    }
    // A socket of this app opened first: on a takeover the stored status is still the old
    // holder's 'connected' until the new one reports (seen under load: the new holder's socket
    // did not exist yet, its connection was never opened, and it sent nothing).
    return openedSockets.size > 0 && (await app.request(`/api/v1/sessions/${tenant.sessionId}`, { token: tenant.apiKey })).body.status === 'connected';
  }, 20_000);
  return sockets.latest(tenant.sessionId)!;
}
