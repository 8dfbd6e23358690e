import type { Capability } from '../../src/common/capabilities';
import { HttpResult, TestApp, Tenant } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const ALL: Capability[] = ['read', 'send', 'manage', 'admin'];

describe('Sessions API', () => {
  let app: TestApp;

  beforeAll(async () => {
    // This replica holds connections; Baileys only ever reaches a loopback port that refuses.
    app = await TestApp.start({
      SESSION_CAPACITY: '50',
      SESSION_LEASE_TTL_MS: '4000',
      SESSION_LEASE_RENEW_INTERVAL_MS: '500',
      SESSION_TAKEOVER_JITTER_MS: '100',
      RECONNECT_BASE_DELAY_MS: '300',
      RECONNECT_MAX_DELAY_MS: '2000',
      AUTH_API_KEY_CACHE_SECONDS: '0',
    });
  });
  afterAll(async () => {
    await app.close();
  });

  const json = (body: unknown) => ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const call = (tenant: Pick<Tenant, 'apiKey'>, method: string, path: string, body?: unknown): Promise<HttpResult> =>
    app.request(`/api/v1${path}`, { token: tenant.apiKey, method, ...(body === undefined ? {} : json(body)) });
  const create = (tenant: Tenant, body: Record<string, unknown>) => call(tenant, 'POST', '/sessions', body);
  /** A request whose body (or its absence) and Content-Type are sent as given, not as JSON made from an object. */
  const sendRaw = (tenant: Pick<Tenant, 'apiKey'>, method: string, path: string, contentType: string, body?: string): Promise<HttpResult> =>
    app.request(`/api/v1${path}`, { token: tenant.apiKey, method, body, headers: { 'content-type': contentType } });

  describe('create, read, update', () => {
    it('creates a stopped session with metadata and returns every documented field', async () => {
      const tenant = await app.createTenant(ALL);
      const response = await create(tenant, { name: '  Support line  ', metadata: { crm: 'acc_1', nested: { a: [1, 2] } }, start: false });
      expect(response.status).toBe(201);
      expect(response.body).toEqual({
        id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
        name: 'Support line',
        metadata: { crm: 'acc_1', nested: { a: [1, 2] } },
        status: 'stopped',
        desiredState: 'stopped',
        phoneJid: null,
        pushName: null,
        heldBy: null,
        lastError: null,
        lastDisconnect: null,
        reconnectAttempts: 0,
        nextReconnectAt: null,
        connectedAt: null,
        sendPacing: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      const fetched = await call(tenant, 'GET', `/sessions/${response.body.id.toLowerCase()}`);
      expect(fetched.status).toBe(200);
      // GET one adds the sync status of the session's stored copy.
      expect(fetched.body).toEqual({
        ...response.body,
        sync: { lastSyncAt: null, history: { status: 'none', syncType: null, progress: null, chunks: 0, chats: 0, updatedAt: null } },
      });
    });

    it('renames and replaces metadata with PATCH', async () => {
      const tenant = await app.createTenant(ALL);
      const { body: session } = await create(tenant, { name: 'before', metadata: { keep: false }, start: false });
      const renamed = await call(tenant, 'PATCH', `/sessions/${session.id}`, { name: 'after' });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ name: 'after', metadata: { keep: false } });
      const replaced = await call(tenant, 'PATCH', `/sessions/${session.id}`, { metadata: { team: 'sales' } });
      expect(replaced.body).toMatchObject({ name: 'after', metadata: { team: 'sales' } });
      const cleared = await call(tenant, 'PATCH', `/sessions/${session.id}`, { metadata: {} });
      expect(cleared.body.metadata).toEqual({});
    });

    it.each<[string, unknown, string]>([
      ['no name', {}, 'name'],
      ['an empty name', { name: '   ' }, 'name'],
      ['a name of 101 characters', { name: 'x'.repeat(101) }, 'name'],
      ['a numeric name', { name: 42 }, 'name'],
      ['metadata that is an array', { name: 'n', metadata: [1] }, 'metadata'],
      ['metadata that is null', { name: 'n', metadata: null }, 'metadata'],
      ['metadata that is a string', { name: 'n', metadata: 'x' }, 'metadata'],
      ['metadata over 16 KiB', { name: 'n', metadata: { blob: 'x'.repeat(17_000) } }, 'metadata'],
      ['start that is not a boolean', { name: 'n', start: 'yes' }, 'start'],
      ['an unknown property', { name: 'n', colour: 'red' }, 'colour'],
      ['a JSON array body', [{ name: 'n' }], 'body'],
    ])('POST /sessions with %s is 400 naming the parameter', async (_label, body, parameter) => {
      const tenant = await app.createTenant(ALL);
      const response = await create(tenant, body as Record<string, unknown>);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: { code: 'invalid_argument', message: expect.any(String), details: { parameter } } });
    });

    it('rejects a body that is not JSON, and a PATCH with nothing to change', async () => {
      const tenant = await app.createTenant(ALL);
      const malformed = await sendRaw(tenant, 'POST', '/sessions', 'application/json', '{"name":');
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.details).toEqual({ parameter: 'body' });
      const empty = await call(tenant, 'PATCH', `/sessions/${tenant.sessionId}`, {});
      expect(empty.status).toBe(400);
      expect(empty.body.error.details).toEqual({ parameter: 'body' });
      const unknown = await call(tenant, 'PATCH', `/sessions/${tenant.sessionId}`, { status: 'connected' });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.details).toEqual({ parameter: 'status' });
    });

    it('takes a bodiless request that says Content-Type: application/json, and refuses a body of another type', async () => {
      const tenant = await app.createTenant(ALL);
      const bodiless = await sendRaw(tenant, 'POST', `/sessions/${tenant.sessionId}/stop`, 'application/json');
      expect(bodiless.status).toBe(200);
      const xml = await sendRaw(tenant, 'POST', '/sessions', 'application/xml', '<session><name>x</name></session>');
      expect(xml.status).toBe(400);
      expect(xml.body.error).toEqual({ code: 'invalid_argument', message: 'unsupported content type: send application/json', details: { parameter: 'body' } });
    });
  });

  describe('GET /sessions pagination', () => {
    let tenant: Tenant;
    let ids: string[];

    beforeAll(async () => {
      tenant = await app.createTenant(ALL);
      ids = [tenant.sessionId];
      for (let i = 0; i < 6; i++) ids.push((await create(tenant, { name: `number ${i}`, start: false })).body.id);
    });

    it.each([1, 3, 7, 50])('pages of %i visit every session once, in creation order', async (limit) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const response: HttpResult = await call(tenant, 'GET', `/sessions?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(response.status).toBe(200);
        expect(response.body.data.length).toBeLessThanOrEqual(limit);
        seen.push(...response.body.data.map((session: { id: string }) => session.id));
        cursor = response.body.nextCursor;
        pages++;
      } while (cursor !== null && pages < 20);
      expect(seen).toEqual(ids);
      expect(pages).toBe(Math.ceil(ids.length / limit));
    });

    it('shows only the caller org sessions', async () => {
      const other = await app.createTenant(ALL);
      const response = await call(other, 'GET', '/sessions');
      expect(response.body.data.map((session: { id: string }) => session.id)).toEqual([other.sessionId]);
      expect(response.body.nextCursor).toBeNull();
    });

    it('applies the List chats limit rules', async () => {
      expect((await call(tenant, 'GET', '/sessions?limit=0')).body.data).toHaveLength(7);
      expect((await call(tenant, 'GET', '/sessions?limit=-5')).body.data).toHaveLength(1);
      const bad = await call(tenant, 'GET', '/sessions?limit=abc');
      expect(bad.status).toBe(400);
      expect(bad.body.error.details).toEqual({ parameter: 'limit' });
    });

    it("refuses a forged cursor and another org's cursor with 400", async () => {
      const { body } = await call(tenant, 'GET', '/sessions?limit=2');
      const other = await app.createTenant(ALL);
      await create(other, { name: 'second', start: false });
      for (const [who, cursor] of [
        [other, body.nextCursor],
        [tenant, 'not-a-cursor'],
        [tenant, `${body.nextCursor}AA`],
      ] as const) {
        const response = await call(who, 'GET', `/sessions?cursor=${encodeURIComponent(cursor)}`);
        expect(response.status).toBe(400);
        expect(response.body.error.details).toEqual({ parameter: 'cursor' });
      }
    });
  });

  describe('connecting, stopping, logging out, deleting', () => {
    it('a started session is held by this replica, fails to reach WhatsApp, and reports it while backing off', async () => {
      const tenant = await app.createTenant(ALL);
      const created = await create(tenant, { name: 'connect me' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ status: 'connecting', desiredState: 'running' });
      const session = await waitFor(async () => {
        const { body } = await call(tenant, 'GET', `/sessions/${created.body.id}`);
        return body.reconnectAttempts >= 2 ? body : undefined;
      });
      expect(session).toMatchObject({
        status: 'connecting',
        heldBy: expect.any(String),
        lastError: expect.stringContaining('ECONNREFUSED'),
        lastDisconnect: { reason: 'connectionLost', code: 408, at: expect.any(String) },
        nextReconnectAt: expect.any(String),
      });
      // The credentials were created and stored encrypted, never in clear text.
      const [row] = await app.dataSource.query('SELECT data FROM session_auth_creds WHERE session_id = $1', [created.body.id]);
      expect(row.data.includes(Buffer.from('noiseKey'))).toBe(false);

      const qr = await call(tenant, 'GET', `/sessions/${created.body.id}/qr`);
      expect(qr.status).toBe(409);
      expect(qr.body).toEqual({ error: { code: 'conflict', message: expect.any(String), details: { status: 'connecting' } } });
      const pairing = await call(tenant, 'POST', `/sessions/${created.body.id}/pairing-code`, { phoneNumber: '6281234567890' });
      expect(pairing.status).toBe(409);

      const stopped = await call(tenant, 'POST', `/sessions/${created.body.id}/stop`);
      expect(stopped.status).toBe(200);
      expect(stopped.body).toMatchObject({ status: 'stopped', desiredState: 'stopped', heldBy: null, nextReconnectAt: null });
      // Stopping keeps the link: the credentials stay.
      expect(await app.dataSource.query('SELECT 1 FROM session_auth_creds WHERE session_id = $1', [created.body.id])).toHaveLength(1);

      const restarted = await call(tenant, 'POST', `/sessions/${created.body.id}/start`);
      expect(restarted.body).toMatchObject({ status: 'connecting', desiredState: 'running' });
      await waitFor(async () => (await call(tenant, 'GET', `/sessions/${created.body.id}`)).body.heldBy !== null);

      const loggedOut = await call(tenant, 'POST', `/sessions/${created.body.id}/logout`);
      expect(loggedOut.status).toBe(200);
      expect(loggedOut.body).toMatchObject({ status: 'logged_out', desiredState: 'stopped', heldBy: null, phoneJid: null });
      expect(await app.dataSource.query('SELECT 1 FROM session_auth_creds WHERE session_id = $1', [created.body.id])).toHaveLength(0);
      expect(await app.dataSource.query('SELECT 1 FROM session_auth_keys WHERE session_id = $1', [created.body.id])).toHaveLength(0);
    });

    it('start and stop are idempotent, and logout of a session nobody holds just wipes its credentials', async () => {
      const tenant = await app.createTenant(ALL);
      const stoppedTwice = await call(tenant, 'POST', `/sessions/${tenant.sessionId}/stop`);
      expect(stoppedTwice.body).toMatchObject({ status: 'stopped' });
      await app.dataSource.query(`INSERT INTO session_auth_creds (session_id, data) VALUES ($1, '\\x00')`, [tenant.sessionId]);
      const loggedOut = await call(tenant, 'POST', `/sessions/${tenant.sessionId}/logout`);
      expect(loggedOut.body).toMatchObject({ status: 'logged_out', heldBy: null });
      expect(await app.dataSource.query('SELECT 1 FROM session_auth_creds WHERE session_id = $1', [tenant.sessionId])).toHaveLength(0);
      await call(tenant, 'POST', `/sessions/${tenant.sessionId}/start`);
      const again = await call(tenant, 'POST', `/sessions/${tenant.sessionId}/start`);
      expect(again.body).toMatchObject({ status: 'connecting', desiredState: 'running' });
      await call(tenant, 'POST', `/sessions/${tenant.sessionId}/stop`);
    });

    it('DELETE logs out and removes the session with everything stored for it', async () => {
      const tenant = await app.createTenant(ALL);
      const { body: session } = await create(tenant, { name: 'to delete' });
      await app.insertChats(session.id, [{ name: 'a chat' }]);
      await waitFor(async () => (await call(tenant, 'GET', `/sessions/${session.id}`)).body.heldBy !== null);
      const deleted = await call(tenant, 'DELETE', `/sessions/${session.id}`);
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe('');
      expect((await call(tenant, 'GET', `/sessions/${session.id}`)).status).toBe(404);
      for (const table of ['sessions', 'chats', 'session_leases', 'session_auth_creds', 'session_auth_keys']) {
        const column = table === 'sessions' ? 'id' : 'session_id';
        expect({ table, rows: await app.dataSource.query(`SELECT 1 FROM ${table} WHERE ${column} = $1`, [session.id]) }).toEqual({ table, rows: [] });
      }
    });

    it.each([['123'], ['+0812345678'], ['62 812 3456 7890'], ['6281234567890123456']])('pairing code for %p is 400', async (phoneNumber) => {
      const tenant = await app.createTenant(ALL);
      const response = await call(tenant, 'POST', `/sessions/${tenant.sessionId}/pairing-code`, { phoneNumber });
      expect(response.status).toBe(400);
      expect(response.body.error.details).toEqual({ parameter: 'phoneNumber' });
    });
  });

  describe('ownership, capabilities, authentication', () => {
    // Every row has three entries: a shorter row would make Jest pass `done` as the body.
    const routes: [string, (id: string) => string, unknown][] = [
      ['GET', (id) => `/sessions/${id}`, undefined],
      ['PATCH', (id) => `/sessions/${id}`, { name: 'x' }],
      ['POST', (id) => `/sessions/${id}/start`, undefined],
      ['POST', (id) => `/sessions/${id}/stop`, undefined],
      ['POST', (id) => `/sessions/${id}/logout`, undefined],
      ['DELETE', (id) => `/sessions/${id}`, undefined],
      ['GET', (id) => `/sessions/${id}/qr`, undefined],
      ['POST', (id) => `/sessions/${id}/pairing-code`, { phoneNumber: '6281234567890' }],
      ['GET', (id) => `/sessions/${id}/chats`, undefined],
    ];

    it.each(routes.map(([method, path, body]): [string, string, (id: string) => string, unknown] => [method, path('{session}'), path, body]))(
      "%s %s: another org's session, an unknown id and a malformed id give identical 404s",
      async (method, _label, path, body) => {
        const mine = await app.createTenant(ALL);
        const theirs = await app.createTenant(ALL);
        const responses = await Promise.all(
          [theirs.sessionId, '01J9ZX8K2QHV0M3T6R7P4N5W8Z', 'not-a-session', '..%2F..'].map((id) => call(mine, method, path(id), body)),
        );
        for (const response of responses) {
          expect(response.status).toBe(404);
          expect(response.text).toBe(responses[0].text);
        }
        expect(responses[0].body).toEqual({ error: { code: 'not_found', message: 'session not found', details: {} } });
        // And nothing happened to their session.
        const theirView = await call(theirs, 'GET', `/sessions/${theirs.sessionId}`);
        expect(theirView.body).toMatchObject({ name: 'test number', status: 'stopped' });
      },
    );

    it.each<[string, string, unknown]>([
      ['POST', '/sessions', { name: 'x' }],
      ...routes.map(([method, path, body]): [string, string, unknown] => [method, path('SESSION'), body]),
    ])('%s %s needs its capability: 403 without it', async (method, path, body) => {
      const needsRead = method === 'GET' && !path.endsWith('/qr');
      const tenant = await app.createTenant(needsRead ? ['send', 'manage', 'admin'] : ['read', 'send', 'admin']);
      const response = await call(tenant, method, path.replace('SESSION', tenant.sessionId), body);
      expect(response.status).toBe(403);
      expect(response.body).toEqual({
        error: { code: 'forbidden', message: expect.any(String), details: { capability: needsRead ? 'read' : 'manage' } },
      });
    });

    it('GET /sessions needs read; no token is 401', async () => {
      const noRead = await app.createTenant(['manage']);
      expect((await call(noRead, 'GET', '/sessions')).status).toBe(403);
      const anonymous = await app.request('/api/v1/sessions');
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error.code).toBe('unauthenticated');
    });
  });

  describe('API keys', () => {
    it('an admin creates a key (its secret shown once), lists it without the secret, and the key works until revoked', async () => {
      const admin = await app.createTenant(ALL);
      const created = await call(admin, 'POST', '/api-keys', { name: ' crm-sync ', capabilities: ['read', 'read', 'manage'] });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
        key: expect.stringMatching(/^wgk_/),
        name: 'crm-sync',
        capabilities: ['read', 'manage'],
        createdAt: expect.any(String),
        lastUsedAt: null,
        revokedAt: null,
      });
      const key = { apiKey: created.body.key as string };
      expect((await call(key, 'GET', '/sessions')).status).toBe(200);

      const listed = await call(admin, 'GET', '/api-keys');
      expect(listed.status).toBe(200);
      expect(listed.text).not.toContain(created.body.key);
      expect(listed.text).not.toContain(created.body.key.slice(-43));
      expect(listed.body.data.map((entry: { id: string }) => entry.id)).toEqual([admin.apiKeyId, created.body.id]);
      expect(listed.body.data[1]).not.toHaveProperty('key');

      expect((await call(admin, 'DELETE', `/api-keys/${created.body.id.toLowerCase()}`)).status).toBe(204);
      expect((await call(key, 'GET', '/sessions')).status).toBe(401);
      const after = await call(admin, 'GET', '/api-keys');
      expect(after.body.data[1].revokedAt).toEqual(expect.any(String));
      expect((await call(admin, 'DELETE', `/api-keys/${created.body.id}`)).status).toBe(404);
    });

    it('cannot mint a key with a capability the caller does not hold', async () => {
      const caller = await app.createTenant(['admin', 'read']);
      const response = await call(caller, 'POST', '/api-keys', { capabilities: ['read', 'send'] });
      expect(response.status).toBe(403);
      expect(response.body).toEqual({ error: { code: 'forbidden', message: expect.stringContaining('send'), details: { capability: 'send' } } });
      expect((await call(caller, 'POST', '/api-keys', { capabilities: ['read', 'admin'] })).status).toBe(201);
    });

    it('needs admin for every route; keys of another org are 404', async () => {
      const manager = await app.createTenant(['read', 'send', 'manage']);
      expect((await call(manager, 'POST', '/api-keys', { capabilities: ['read'] })).status).toBe(403);
      expect((await call(manager, 'GET', '/api-keys')).status).toBe(403);
      expect((await call(manager, 'DELETE', `/api-keys/${manager.apiKeyId}`)).status).toBe(403);
      const other = await app.createTenant(ALL);
      const admin = await app.createTenant(ALL);
      for (const id of [other.apiKeyId, '01J9ZX8K2QHV0M3T6R7P4N5W8Z', 'nope']) {
        const response = await call(admin, 'DELETE', `/api-keys/${id}`);
        expect(response.status).toBe(404);
        expect(response.body).toEqual({ error: { code: 'not_found', message: 'API key not found', details: {} } });
      }
      expect((await call(other, 'GET', '/sessions')).status).toBe(200);
    });

    it.each<[string, unknown, string]>([
      ['no capabilities', {}, 'capabilities'],
      ['an empty list', { capabilities: [] }, 'capabilities'],
      ['an unknown capability', { capabilities: ['read', 'root'] }, 'capabilities'],
      ['a string', { capabilities: 'read' }, 'capabilities'],
      ['an empty name', { name: '', capabilities: ['read'] }, 'name'],
      ['an unknown property', { capabilities: ['read'], expires: 'never' }, 'expires'],
    ])('POST /api-keys with %s is 400', async (_label, body, parameter) => {
      const admin = await app.createTenant(ALL);
      const response = await call(admin, 'POST', '/api-keys', body);
      expect(response.status).toBe(400);
      expect(response.body.error).toEqual({ code: 'invalid_argument', message: expect.any(String), details: { parameter } });
    });

    it('paginates with the List chats rules', async () => {
      const admin = await app.createTenant(ALL);
      for (let i = 0; i < 4; i++) await call(admin, 'POST', '/api-keys', { capabilities: ['read'] });
      const first = await call(admin, 'GET', '/api-keys?limit=2');
      const second = await call(admin, 'GET', `/api-keys?limit=2&cursor=${first.body.nextCursor}`);
      const third = await call(admin, 'GET', `/api-keys?limit=2&cursor=${second.body.nextCursor}`);
      const ids = [...first.body.data, ...second.body.data, ...third.body.data].map((entry: { id: string }) => entry.id);
      expect(new Set(ids).size).toBe(5);
      expect([...ids].sort()).toEqual(ids);
      expect(third.body.nextCursor).toBeNull();
      const other = await app.createTenant(ALL);
      expect((await call(other, 'GET', `/api-keys?cursor=${first.body.nextCursor}`)).status).toBe(400);
    });
  });
});
