import type { Capability } from '../../src/common/capabilities';
import { ErrorEnvelopeFilter } from '../../src/http/error-envelope.filter';
import { HttpResult, TestApp, Tenant } from '../support/test-app';

const ALL: Capability[] = ['read', 'send', 'manage', 'admin'];

/**
 * Client strings PostgreSQL cannot store (NUL, half a surrogate pair) are the client's 400
 * `invalid_argument` naming the field, in every body; they used to reach the database and come
 * back as 500 `internal`.
 */
describe('Hostile input: characters PostgreSQL cannot store', () => {
  let app: TestApp;
  let tenant: Tenant;

  beforeAll(async () => {
    app = await TestApp.start();
    tenant = await app.createTenant(ALL);
  });
  afterAll(async () => {
    await app.close();
  });

  // JSON.stringify writes NUL as \u0000 and a lone surrogate as \udXXX: the JSON is valid.
  const send = (method: string, path: string, body: unknown): Promise<HttpResult> =>
    app.request(`/api/v1${path}`, { token: tenant.apiKey, method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  function expectRefused(response: HttpResult, parameter: string): void {
    expect({ status: response.status, code: response.body?.error?.code, parameter: response.body?.error?.details?.parameter }).toEqual({
      status: 400,
      code: 'invalid_argument',
      parameter,
    });
    expect(response.body.error.message).toContain(parameter);
  }

  it.each([
    ['a NUL in the session name', { name: 'Sup\u0000port' }, 'name'],
    ['a NUL in a metadata value', { name: 'ok', metadata: { crm: 'acc\u0000' } }, 'metadata.crm'],
    ['a NUL deep in metadata', { name: 'ok', metadata: { a: { b: ['x', 'y\u0000'] } } }, 'metadata.a.b.1'],
    ['a NUL in a metadata key', { name: 'ok', metadata: { 'k\u0000': 1 } }, 'metadata'],
    ['half a surrogate pair in metadata', { name: 'ok', metadata: { note: 'x\ud800' } }, 'metadata.note'],
    ['half a surrogate pair in the name', { name: '\udc00name' }, 'name'],
  ])('POST /sessions: %s is 400 naming the field', async (_label, body, parameter) => {
    expectRefused(await send('POST', '/sessions', { ...body, start: false }), parameter);
  });

  it('PATCH /sessions/{id}: a NUL in the new name or metadata is 400 naming the field; the session is unchanged', async () => {
    const created = await send('POST', '/sessions', { name: 'Before', metadata: { a: 1 }, start: false });
    expect(created.status).toBe(201);
    expectRefused(await send('PATCH', `/sessions/${created.body.id}`, { name: 'After\u0000' }), 'name');
    expectRefused(await send('PATCH', `/sessions/${created.body.id}`, { metadata: { a: '\u0000' } }), 'metadata.a');
    const fetched = await app.request(`/api/v1/sessions/${created.body.id}`, { token: tenant.apiKey });
    expect(fetched.body).toMatchObject({ name: 'Before', metadata: { a: 1 } });
  });

  it('POST /api-keys: a NUL in the key name is 400 naming the field; no key is created', async () => {
    expectRefused(await send('POST', '/api-keys', { name: 'crm\u0000sync', capabilities: ['read'] }), 'name');
    expectRefused(await send('POST', '/api-keys', { name: 'ok', capabilities: ['read', 'x\u0000'] }), 'capabilities.1');
    const keys = await app.request('/api/v1/api-keys', { token: tenant.apiKey });
    expect(keys.body.data).toHaveLength(1);
  });

  it('POST /sessions/{id}/pairing-code: a NUL in the phone number is 400 naming the field', async () => {
    const created = await send('POST', '/sessions', { name: 'Pairing', start: false });
    expectRefused(await send('POST', `/sessions/${created.body.id}/pairing-code`, { phoneNumber: '6281234\u0000567890' }), 'phoneNumber');
  });

  it('the safety net: PostgreSQL refusing a value (22021, 22P05) anywhere else is 400 invalid_argument, never 500', async () => {
    // The filter answers through Nest's HTTP adapter: a recording one stands in for the platform's.
    let answer: { status?: number; body?: unknown };
    const httpAdapter = {
      isHeadersSent: () => false,
      setHeader: () => undefined,
      reply: (_response: unknown, body: unknown, status: number) => (answer = { status, body }),
    };
    const filter = new ErrorEnvelopeFilter({ httpAdapter } as never);
    const errors: unknown[] = [];
    for (const [sql, value] of [
      ['SELECT $1::text', 'a\u0000b'],
      ['SELECT $1::jsonb', JSON.stringify({ a: 'a\u0000b' })],
      ['SELECT $1::jsonb', JSON.stringify({ a: 'x\ud800' })],
    ]) {
      errors.push(
        await app.dataSource.query(sql, [value]).then(
          () => undefined,
          (error: unknown) => error,
        ),
      );
    }
    for (const error of errors) {
      expect(error).toBeDefined();
      answer = {};
      const host = { switchToHttp: () => ({ getRequest: () => ({ id: 'req-1' }), getResponse: () => ({}) }) };
      filter.catch(error, host as never);
      expect({ status: answer.status, code: (answer.body as { error: { code: string } }).error.code }).toEqual({ status: 400, code: 'invalid_argument' });
    }
  });
});
