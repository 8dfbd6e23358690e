import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Capability } from '../../src/common/capabilities';
import { minimumBackoffDelay } from '../../src/whatsapp-sync/connection/backoff';
import { BAILEYS_SOCKET_FACTORY, BaileysSocketFactory, makeBaileysSocket } from '../../src/whatsapp-sync/connection/baileys-socket';
import { ConnectionSupervisor } from '../../src/whatsapp-sync/connection/connection-supervisor';
import { GATEWAY_FAILURE } from '../../src/whatsapp-sync/connection/last-error';
import { SYNC_EVENT_SINK } from '../../src/whatsapp-sync/sync-event-sink';
import { FakeBaileysSocket, FakeSocketFactory, RecordingSink } from '../support/fake-baileys-socket';
import { IsolatedDatabase, isolatedDatabase } from '../support/isolated-database';
import { HttpResult, TestApp, Tenant } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const ALL: Capability[] = ['read', 'send', 'manage', 'admin'];
const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 400;

/** Timings for one replica holding sessions, short enough for tests. */
const REPLICA_ENV = {
  SESSION_CAPACITY: '20',
  SESSION_LEASE_TTL_MS: '4000',
  SESSION_LEASE_RENEW_INTERVAL_MS: '400',
  SESSION_TAKEOVER_JITTER_MS: '50',
  SESSION_COMMAND_POLL_MS: '50',
  RECONNECT_BASE_DELAY_MS: String(BASE_DELAY_MS),
  RECONNECT_MAX_DELAY_MS: String(MAX_DELAY_MS),
};

describe('Session lifecycle', () => {
  let database: IsolatedDatabase;

  beforeAll(async () => {
    database = await isolatedDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  async function session(app: TestApp, tenant: Tenant): Promise<any> {
    return (await app.request(`/api/v1/sessions/${tenant.sessionId}`, { token: tenant.apiKey })).body;
  }

  /** The session once it has reached `status` and its lease is released (the runner writes the final state first). */
  function settledAs(app: TestApp, tenant: Tenant, status: string): Promise<any> {
    return waitFor(async () => {
      const current = await session(app, tenant);
      return current.status === status && current.heldBy === null ? current : undefined;
    });
  }

  describe('with the real Baileys socket, where no network is reachable', () => {
    let app: TestApp;
    const sink = new RecordingSink();
    const socketsMade: { sessionId: string; at: number }[] = [];
    const countingFactory: BaileysSocketFactory = (baileys, config, sessionId) => {
      socketsMade.push({ sessionId, at: performance.now() });
      return makeBaileysSocket(baileys, config, sessionId);
    };

    beforeAll(async () => {
      app = await TestApp.start(
        { ...REPLICA_ENV, DATABASE_URL: database.url },
        {
          providers: [
            { provide: SYNC_EVENT_SINK, useValue: sink },
            { provide: BAILEYS_SOCKET_FACTORY, useValue: countingFactory },
          ],
        },
      );
    });
    afterAll(async () => {
      await app.close();
    });

    it('backs off between failed attempts (never faster than the schedule), reports it, and stops for good on stop', async () => {
      const tenant = await app.createTenant(ALL);
      await app.request(`/api/v1/sessions/${tenant.sessionId}/start`, { token: tenant.apiKey, method: 'POST' });
      const backingOff = await waitFor(async () => {
        const body = await session(app, tenant);
        return body.reconnectAttempts >= 4 ? body : undefined;
      });
      expect(backingOff).toMatchObject({
        status: 'connecting',
        heldBy: expect.any(String),
        // Said as what it is, without the address the socket error named (ECONNREFUSED 127.0.0.1:port).
        lastError: 'WhatsApp could not be reached: the connection was refused (ECONNREFUSED)',
        lastDisconnect: { reason: 'connectionLost', code: 408 },
        nextReconnectAt: expect.any(String),
      });

      // Every retry waited at least the lower bound of its backoff step: no hot loop.
      const attempts = socketsMade.filter((made) => made.sessionId === tenant.sessionId).map((made) => made.at);
      expect(attempts.length).toBeGreaterThanOrEqual(4);
      for (let retry = 1; retry < attempts.length; retry++) {
        const gap = attempts[retry] - attempts[retry - 1];
        expect(gap).toBeGreaterThanOrEqual(minimumBackoffDelay(retry, BASE_DELAY_MS, MAX_DELAY_MS) - 2);
      }

      // Baileys' own connection events reached the sink, in order, for this session.
      const updates = sink
        .of(tenant.sessionId)
        .map((batch) => batch['connection.update']?.connection)
        .filter(Boolean);
      expect(updates.slice(0, 4)).toEqual(['connecting', 'close', 'connecting', 'close']);

      const stopped = await app.request(`/api/v1/sessions/${tenant.sessionId}/stop`, { token: tenant.apiKey, method: 'POST' });
      expect(stopped.body).toMatchObject({ status: 'stopped', heldBy: null, nextReconnectAt: null });
      const madeAtStop = socketsMade.length;
      await sleep(MAX_DELAY_MS * 2);
      expect(socketsMade.length).toBe(madeAtStop);
      expect(app.app.get(ConnectionSupervisor).runnerOf(tenant.sessionId)).toBeUndefined();
    });

    it('logs each failed attempt once with its cause and the session id, never as the 408 connectionLost Baileys reports', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn');
      try {
        const tenant = await app.createTenant(ALL);
        await app.request(`/api/v1/sessions/${tenant.sessionId}/start`, { token: tenant.apiKey, method: 'POST' });
        const backingOff = await waitFor(async () => {
          const body = await session(app, tenant);
          return body.reconnectAttempts >= 3 ? body : undefined;
        });
        expect(backingOff.lastError).toBe('WhatsApp could not be reached: the connection was refused (ECONNREFUSED)');
        await app.request(`/api/v1/sessions/${tenant.sessionId}/stop`, { token: tenant.apiKey, method: 'POST' });

        const lines = warn.mock.calls.filter(([fields]) => (fields as { sessionId?: string } | undefined)?.sessionId === tenant.sessionId);
        const attempts = socketsMade.filter((made) => made.sessionId === tenant.sessionId).length;
        // One line per attempt that failed (the last one may have been stopped before it failed).
        expect(lines.length).toBeGreaterThanOrEqual(backingOff.reconnectAttempts);
        expect(lines.length).toBeLessThanOrEqual(attempts);
        for (const [fields, message] of lines) {
          expect(message).toBe('WhatsApp could not be reached: the connection was refused (ECONNREFUSED)');
          expect(fields).toMatchObject({ sessionId: tenant.sessionId, cause: 'ECONNREFUSED' });
          expect(fields).not.toHaveProperty('code');
          expect(JSON.stringify(fields)).not.toMatch(/connectionLost|statusCode/);
        }
      } finally {
        warn.mockRestore();
      }
    });
  });

  describe("with Baileys' own event emitter driving connection.update", () => {
    let app: TestApp;
    const sink = new RecordingSink();
    const sockets = new FakeSocketFactory();

    beforeAll(async () => {
      app = await TestApp.start(
        { ...REPLICA_ENV, DATABASE_URL: database.url },
        {
          providers: [
            { provide: SYNC_EVENT_SINK, useValue: sink },
            { provide: BAILEYS_SOCKET_FACTORY, useValue: sockets.factory },
          ],
        },
      );
    });
    afterAll(async () => {
      await app.close();
    });

    const api = (tenant: Tenant, method: string, path: string, body?: unknown): Promise<HttpResult> =>
      app.request(`/api/v1/sessions/${tenant.sessionId}${path}`, {
        token: tenant.apiKey,
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });

    /** A started session and the socket of its first connection. */
    async function started(): Promise<{ tenant: Tenant; socket: FakeBaileysSocket }> {
      const tenant = await app.createTenant(ALL);
      await api(tenant, 'POST', '/start');
      const socket = await waitFor(() => sockets.latest(tenant.sessionId));
      await waitFor(async () => (await session(app, tenant)).heldBy !== null);
      return { tenant, socket };
    }

    async function connected(): Promise<{ tenant: Tenant; socket: FakeBaileysSocket }> {
      const { tenant, socket } = await started();
      await open(tenant, socket);
      return { tenant, socket };
    }

    async function open(tenant: Tenant, socket: FakeBaileysSocket): Promise<any> {
      socket.user = { id: '6281234567890:12@s.whatsapp.net', name: 'Alice' };
      socket.emit('connection.update', { connection: 'open' });
      return waitFor(async () => {
        const body = await session(app, tenant);
        return body.status === 'connected' ? body : undefined;
      });
    }

    const nextSocket = (tenant: Tenant, after: FakeBaileysSocket) =>
      waitFor(() => {
        const latest = sockets.latest(tenant.sessionId);
        return latest !== after ? latest : undefined;
      });

    it('shows the QR code WhatsApp issues (raw and as a PNG), hands out a pairing code, then reports the link', async () => {
      const { tenant, socket } = await started();
      socket.emit('connection.update', { qr: '2@first-ref,noise,identity,adv' });
      await waitFor(async () => (await session(app, tenant)).status === 'qr_required');

      const qr = await api(tenant, 'GET', '/qr');
      expect(qr.status).toBe(200);
      expect(qr.body).toEqual({ qr: '2@first-ref,noise,identity,adv', image: expect.stringMatching(/^data:image\/png;base64,/), issuedAt: expect.any(String) });
      const png = Buffer.from(qr.body.image.split(',')[1], 'base64');
      expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

      socket.emit('connection.update', { qr: '2@second-ref,noise,identity,adv' });
      await waitFor(async () => (await api(tenant, 'GET', '/qr')).body.qr === '2@second-ref,noise,identity,adv');

      const pairing = await api(tenant, 'POST', '/pairing-code', { phoneNumber: '+6281234567890' });
      expect(pairing.status).toBe(200);
      expect(pairing.body).toEqual({ pairingCode: 'ABCD1234' });
      expect(socket.pairingRequests).toEqual(['6281234567890']);

      const linked = await open(tenant, socket);
      expect(linked).toMatchObject({
        status: 'connected',
        phoneJid: '6281234567890@s.whatsapp.net',
        pushName: 'Alice',
        connectedAt: expect.any(String),
        lastError: null,
        reconnectAttempts: 0,
      });
      expect((await api(tenant, 'GET', '/qr')).status).toBe(409);
      expect((await api(tenant, 'POST', '/pairing-code', { phoneNumber: '6281234567890' })).status).toBe(409);
    });

    it('counts the sessions this replica holds by status in /metrics', async () => {
      const held = async (status: string) => {
        const match = new RegExp(`^gateway_whatsapp_sessions\\{status="${status}"\\} (\\d+)$`, 'm').exec((await app.request('/metrics')).text);
        return Number(match?.[1]);
      };
      const before = { qr: await held('qr_required'), connected: await held('connected') };
      const { tenant, socket } = await started();
      socket.emit('connection.update', { qr: '2@metrics-ref,noise,identity,adv' });
      await waitFor(async () => (await session(app, tenant)).status === 'qr_required');
      expect(await held('qr_required')).toBe(before.qr + 1);
      await open(tenant, socket);
      expect(await held('qr_required')).toBe(before.qr);
      expect(await held('connected')).toBe(before.connected + 1);
    });

    it('hands every batch to the SyncEventSink, in order, tagged with its session', async () => {
      const { tenant, socket } = await connected();
      const chat = { id: '6289876543210@s.whatsapp.net', name: 'Bob', conversationTimestamp: 1_719_662_400 };
      socket.emit('chats.upsert', [chat]);
      socket.emit('contacts.upsert', [{ id: '6289876543210@s.whatsapp.net', notify: 'Bob' }]);
      const batches = await waitFor(() => {
        const recorded = sink.of(tenant.sessionId);
        return recorded.some((batch) => batch['contacts.upsert']) ? recorded : undefined;
      });
      const kinds = batches.map((batch) => Object.keys(batch).join('+'));
      expect(kinds).toEqual(['connection.update', 'connection.update', 'chats.upsert', 'contacts.upsert']);
      expect(batches[2]['chats.upsert']).toEqual([chat]);
    });

    it('a state write the database refuses for a moment is written again: the session shows connected', async () => {
      const { tenant, socket } = await started();
      // The database refuses the first two writes of 'connected' for this session: a real error in
      // the writing transaction, counted by a sequence (which the transaction's rollback does not undo).
      await app.dataSource.query(`CREATE SEQUENCE refused_connected_writes`);
      await app.dataSource.query(`
        CREATE FUNCTION refuse_connected() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.id = '${tenant.sessionId}' AND NEW.status = 'connected' THEN
            IF nextval('refused_connected_writes') <= 2 THEN
              RAISE EXCEPTION 'the database is busy for a moment' USING ERRCODE = '53300';
            END IF;
          END IF;
          RETURN NEW;
        END $$`);
      await app.dataSource.query(`CREATE TRIGGER refuse_connected BEFORE UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION refuse_connected()`);
      try {
        const body = await open(tenant, socket);
        expect(body).toMatchObject({ status: 'connected', phoneJid: '6281234567890@s.whatsapp.net' });
        // Refused twice, written by the third try.
        const [writes] = await app.dataSource.query(`SELECT last_value FROM refused_connected_writes`);
        expect(Number(writes.last_value)).toBe(3);
      } finally {
        await app.dataSource.query(`DROP TRIGGER refuse_connected ON sessions; DROP FUNCTION refuse_connected(); DROP SEQUENCE refused_connected_writes`);
        await api(tenant, 'POST', '/stop');
      }
    });

    it('reports a push name that arrives later with creds.update', async () => {
      const { tenant, socket } = await connected();
      socket.emit('creds.update', { me: { id: '6281234567890:12@s.whatsapp.net', name: 'Alice B.' } });
      await waitFor(async () => (await session(app, tenant)).pushName === 'Alice B.');
    });

    /** A real error of the gateway's own database, statement text and all. */
    async function databaseError(): Promise<Error> {
      return app.dataSource.query('SELECT secret_column FROM internal_table_that_does_not_exist').then(
        () => {
          throw new Error('the query should have failed');
        },
        (error: Error) => error,
      );
    }

    it('a connection closed by an error inside the gateway shows a fixed lastError, never the database error text', async () => {
      const { tenant, socket } = await connected();
      await socket.end(await databaseError());
      const body = await waitFor(async () => {
        const current = await session(app, tenant);
        return current.reconnectAttempts === 1 ? current : undefined;
      });
      expect(body.lastError).toBe(GATEWAY_FAILURE);
      expect(JSON.stringify(body)).not.toMatch(/internal_table|secret_column|does not exist/);
      await api(tenant, 'POST', '/stop');
    });

    it('a connection that cannot be opened because of a database error shows a fixed lastError, never the error text', async () => {
      const tenant = await app.createTenant(ALL);
      sockets.failNextWith(await databaseError());
      await api(tenant, 'POST', '/start');
      const body = await waitFor(async () => {
        const current = await session(app, tenant);
        return current.reconnectAttempts >= 1 ? current : undefined;
      });
      expect(body).toMatchObject({ status: 'connecting', lastError: GATEWAY_FAILURE });
      expect(JSON.stringify(body)).not.toMatch(/internal_table|secret_column|does not exist/);
      await api(tenant, 'POST', '/stop');
    });

    it.each([
      [428, 'connectionClosed'],
      [408, 'connectionLost'],
      [500, 'badSession'],
      [503, 'unavailableService'],
      [499, 'unknown'],
    ])('a close with %i (%s) reconnects after a backoff and reports why', async (code, reason) => {
      const { tenant, socket } = await connected();
      await socket.close(code, `closed with ${code}`);
      const reconnecting = await waitFor(async () => {
        const body = await session(app, tenant);
        return body.lastDisconnect?.code === code ? body : undefined;
      });
      expect(reconnecting).toMatchObject({
        status: 'connecting',
        lastDisconnect: { reason, code },
        lastError: `closed with ${code}`,
        reconnectAttempts: 1,
        nextReconnectAt: expect.any(String),
      });
      const replacement = await nextSocket(tenant, socket);
      expect(await open(tenant, replacement)).toMatchObject({ status: 'connected', reconnectAttempts: 0 });
    });

    it('a close with 515 (restartRequired) reconnects at once', async () => {
      const { tenant, socket } = await connected();
      await socket.close(515, 'Stream Errored (restart required)');
      const replacement = await nextSocket(tenant, socket);
      const body = await session(app, tenant);
      expect(body).toMatchObject({ lastDisconnect: { reason: 'restartRequired', code: 515 }, reconnectAttempts: 0 });
      await open(tenant, replacement);
    });

    it('a close with 440 (connectionReplaced) reconnects while the lease is still ours', async () => {
      const { tenant, socket } = await connected();
      await socket.close(440, 'Stream Errored (conflict)');
      const replacement = await nextSocket(tenant, socket);
      expect(await session(app, tenant)).toMatchObject({ lastDisconnect: { reason: 'connectionReplaced', code: 440 } });
      await open(tenant, replacement);
    });

    it('a close with 440 after another replica took the lease: stands down, writes nothing more', async () => {
      const { tenant, socket } = await connected();
      // Another replica claimed the session (a new epoch) while this one was paused.
      await app.dataSource.query(
        `UPDATE session_leases SET owner = 'other-replica', epoch = epoch + 1, expires_at = now() + interval '1 minute' WHERE session_id = $1`,
        [tenant.sessionId],
      );
      await app.dataSource.query(`UPDATE sessions SET status = 'qr_required', last_error = 'written by the new holder' WHERE id = $1`, [tenant.sessionId]);
      await socket.close(440, 'Stream Errored (conflict)');
      const supervisor = app.app.get(ConnectionSupervisor);
      await waitFor(() => supervisor.runnerOf(tenant.sessionId) === undefined);
      await sleep(MAX_DELAY_MS * 2);
      expect(sockets.of(tenant.sessionId)).toHaveLength(1);
      const [row] = await app.dataSource.query('SELECT status, last_error, last_disconnect_code FROM sessions WHERE id = $1', [tenant.sessionId]);
      expect(row).toEqual({ status: 'qr_required', last_error: 'written by the new holder', last_disconnect_code: null });
    });

    it('a close with 401 (loggedOut, from the phone) wipes the credentials and stops: logged_out', async () => {
      const { tenant, socket } = await connected();
      expect(await app.dataSource.query('SELECT 1 FROM session_auth_creds WHERE session_id = $1', [tenant.sessionId])).toHaveLength(1);
      await socket.close(401, 'Connection Failure');
      const body = await settledAs(app, tenant, 'logged_out');
      expect(body).toMatchObject({
        desiredState: 'stopped',
        heldBy: null,
        phoneJid: null,
        lastDisconnect: { reason: 'loggedOut', code: 401 },
        lastError: expect.stringContaining('unlinked'),
      });
      expect(await app.dataSource.query('SELECT 1 FROM session_auth_creds WHERE session_id = $1', [tenant.sessionId])).toHaveLength(0);
      await sleep(MAX_DELAY_MS * 2);
      expect(sockets.of(tenant.sessionId)).toHaveLength(1);
    });

    it.each([
      [403, 'forbidden'],
      [411, 'multideviceMismatch'],
    ])('a close with %i (%s) is permanent: failed, stopped, not retried', async (code, reason) => {
      const { tenant, socket } = await connected();
      await socket.close(code, 'Connection Failure');
      const body = await settledAs(app, tenant, 'failed');
      expect(body).toMatchObject({ desiredState: 'stopped', heldBy: null, lastDisconnect: { reason, code }, lastError: expect.stringContaining(reason) });
      await sleep(MAX_DELAY_MS * 2);
      expect(sockets.of(tenant.sessionId)).toHaveLength(1);
      // The link is kept: starting again reconnects with the same credentials.
      expect(await app.dataSource.query('SELECT 1 FROM session_auth_creds WHERE session_id = $1', [tenant.sessionId])).toHaveLength(1);
    });

    it('a QR code nobody scans ends the attempt: stopped, with the reason', async () => {
      const { tenant, socket } = await started();
      socket.emit('connection.update', { qr: '2@ref,noise,identity,adv' });
      await waitFor(async () => (await session(app, tenant)).status === 'qr_required');
      await socket.close(408, 'QR refs attempts ended');
      const body = await settledAs(app, tenant, 'stopped');
      expect(body).toMatchObject({ desiredState: 'stopped', heldBy: null, lastError: expect.stringContaining('not scanned') });
      expect((await api(tenant, 'GET', '/qr')).status).toBe(409);
    });

    it('logout over the API logs the socket out of WhatsApp, wipes the credentials and releases the lease', async () => {
      const { tenant, socket } = await connected();
      const response = await api(tenant, 'POST', '/logout');
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'logged_out', desiredState: 'stopped', heldBy: null, phoneJid: null, lastError: null });
      expect(socket.logouts).toBe(1);
      expect(await app.dataSource.query('SELECT 1 FROM session_auth_creds WHERE session_id = $1', [tenant.sessionId])).toHaveLength(0);
      expect(await app.dataSource.query('SELECT owner FROM session_leases WHERE session_id = $1', [tenant.sessionId])).toEqual([{ owner: null }]);
    });

    it('stop closes the socket without logging out; start resumes with the same credentials', async () => {
      const { tenant, socket } = await connected();
      const stopped = await api(tenant, 'POST', '/stop');
      expect(stopped.body).toMatchObject({ status: 'stopped', heldBy: null, phoneJid: '6281234567890@s.whatsapp.net' });
      expect(socket.closed).toBe(true);
      expect(socket.logouts).toBe(0);
      await api(tenant, 'POST', '/start');
      const replacement = await nextSocket(tenant, socket);
      await open(tenant, replacement);
      expect(Buffer.from(replacement.creds.noiseKey.public)).toEqual(Buffer.from(socket.creds.noiseKey.public));
      expect(replacement.creds.advSecretKey).toBe(socket.creds.advSecretKey);
    });
  });
});
