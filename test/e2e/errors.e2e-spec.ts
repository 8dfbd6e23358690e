import { isolatedDatabase } from '../support/isolated-database';
import { TestApp, HttpResult } from '../support/test-app';

const LEAKS = /(stack|at \w+ \(|\.ts:\d+|SELECT|INSERT|QueryFailedError|node_modules|postgres)/i;

function expectEnvelope(response: HttpResult, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  expect(Object.keys(response.body)).toEqual(['error']);
  expect(Object.keys(response.body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(response.body.error.code).toBe(code);
  expect(typeof response.body.error.message).toBe('string');
  expect(response.body.error.details).toEqual(expect.any(Object));
  expect(Array.isArray(response.body.error.details)).toBe(false);
  expect(response.text).not.toMatch(LEAKS);
}

describe('the error envelope, on every non-2xx response', () => {
  let app: TestApp;
  let tenant: Awaited<ReturnType<TestApp['createTenant']>>;

  beforeAll(async () => {
    app = await TestApp.start();
    tenant = await app.createTenant(['read']);
  });
  afterAll(async () => {
    await app.close();
  });

  it('400 invalid_argument', async () => {
    expectEnvelope(await app.request(`/api/v1/sessions/${tenant.sessionId}/chats?limit=abc`, { token: tenant.apiKey }), 400, 'invalid_argument');
  });

  it('401 unauthenticated', async () => {
    expectEnvelope(await app.request(`/api/v1/sessions/${tenant.sessionId}/chats`), 401, 'unauthenticated');
  });

  it('403 forbidden', async () => {
    const weak = await app.createTenant(['send']);
    expectEnvelope(await app.request(`/api/v1/sessions/${weak.sessionId}/chats`, { token: weak.apiKey }), 403, 'forbidden');
  });

  it('404 not_found for a session', async () => {
    expectEnvelope(await app.request('/api/v1/sessions/01J9ZX8K2QHV0M3T6R7P4N5W8C/chats', { token: tenant.apiKey }), 404, 'not_found');
  });

  it.each(['/', '/nope', '/api/v1', '/api/v1/session', '/api/v1/sessions/x/unknown', '/api/v2/sessions/x/chats', '/api/v1/sessions/x/chats/extra'])(
    '404 not_found for the unknown route %s',
    async (path) => {
      expectEnvelope(await app.request(path, { token: tenant.apiKey }), 404, 'not_found');
    },
  );

  it.each(['/api/v1/sessions/%FF/chats', '/api/v1/sessions/%E0%A4%A/chats', '/%'])('404 not_found for the undecodable path %s', async (path) => {
    expectEnvelope(await app.request(path, { token: tenant.apiKey }), 404, 'not_found');
  });

  it('404 not_found for an unsupported method on a known path', async () => {
    expectEnvelope(await app.request(`/api/v1/sessions/${tenant.sessionId}/chats`, { method: 'DELETE', token: tenant.apiKey }), 404, 'not_found');
  });

  it('400 invalid_argument for a malformed JSON body', async () => {
    const response = await app.request(`/api/v1/sessions/${tenant.sessionId}/chats`, {
      method: 'POST',
      token: tenant.apiKey,
      headers: { 'content-type': 'application/json' },
      body: '{"name": ',
    });
    expectEnvelope(response, 400, 'invalid_argument');
    expect(response.body.error.details).toEqual({ parameter: 'body' });
  });

  describe('deeply nested JSON (refused while parsing the body, before anything walks it)', () => {
    const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

    it.each([
      ['a property', `{"name":${deepArray(20_000)}}`],
      ['metadata', `{"name":"n","start":false,"metadata":{"a":${deepArray(20_000)}}}`],
      ['the whole body', deepArray(20_000)],
    ])('400 invalid_argument for a 40 KB body with a 20,000-deep array as %s', async (_where, body) => {
      const manager = await app.createTenant(['manage']);
      expect(body.length).toBeGreaterThanOrEqual(40_000);
      const response = await app.request('/api/v1/sessions', { method: 'POST', token: manager.apiKey, headers: { 'content-type': 'application/json' }, body });
      expectEnvelope(response, 400, 'invalid_argument');
      expect(response.body.error).toEqual({
        code: 'invalid_argument',
        message: 'request body is nested too deeply: at most 32 levels of arrays and objects',
        details: { parameter: 'body' },
      });
    });

    it('takes a body nested exactly 32 levels deep, and refuses 33', async () => {
      const manager = await app.createTenant(['manage']);
      // The body (1) and metadata (2) are objects; the arrays inside make up the rest.
      const nested = (depth: number) => `{"name":"nested","start":false,"metadata":{"a":${deepArray(depth - 2)}}}`;
      const send = (body: string) =>
        app.request('/api/v1/sessions', { method: 'POST', token: manager.apiKey, headers: { 'content-type': 'application/json' }, body });
      expect((await send(nested(32))).status).toBe(201);
      expectEnvelope(await send(nested(33)), 400, 'invalid_argument');
    });
  });

  it('413 payload_too_large for an oversized body', async () => {
    const response = await app.request('/api/v1/anything', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ blob: 'x'.repeat(300 * 1024) }),
    });
    expectEnvelope(response, 413, 'payload_too_large');
  });

  it('500 internal hides the cause and carries the request id', async () => {
    // The cause is a column renamed under the app: on a database of this test's own, since test
    // files run side by side on the run's shared database, where List chats would fail for them too.
    const database = await isolatedDatabase();
    const broken = await TestApp.start({ DATABASE_URL: database.url });
    try {
      const owner = await broken.createTenant(['read']);
      await broken.dataSource.query('ALTER TABLE chats RENAME COLUMN jid TO jid_renamed_for_test');
      const response = await broken.request(`/api/v1/sessions/${owner.sessionId}/chats`, {
        token: owner.apiKey,
        headers: { 'x-request-id': 'trace-me-123' },
      });
      expectEnvelope(response, 500, 'internal');
      expect(response.body.error).toEqual({ code: 'internal', message: 'internal error', details: {} });
      expect(response.headers.get('x-request-id')).toBe('trace-me-123');
    } finally {
      await broken.close();
      await database.drop();
    }
  });

  it('echoes a sane incoming X-Request-Id and replaces an unsafe one', async () => {
    const echoed = await app.request('/nope', { headers: { 'x-request-id': 'abc-123' } });
    expect(echoed.headers.get('x-request-id')).toBe('abc-123');
    const replaced = await app.request('/nope', { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a successful response carries a request id too, and no X-Powered-By', async () => {
    const response = await app.request(`/api/v1/sessions/${tenant.sessionId}/chats`, { token: tenant.apiKey });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(response.headers.get('x-powered-by')).toBeNull();
  });
});
