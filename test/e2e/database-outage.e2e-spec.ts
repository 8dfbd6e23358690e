import { setTimeout as sleep } from 'node:timers/promises';
import { HttpResult, TestApp, Tenant } from '../support/test-app';
import { ThrowawayPostgres } from '../support/throwaway-postgres';

const CONNECT_TIMEOUT_MS = 800;
/** Generous: a request that hangs instead of failing would take forever, not this. */
const RESPONSE_BOUND_MS = CONNECT_TIMEOUT_MS + 2500;

interface Sample {
  status: number;
  code?: string;
  retryAfter: string | null;
  elapsedMs: number;
}

/**
 * The app runs against a PostgreSQL of the test's own, which the test stops, replaces with a
 * black hole (accepts connections, never answers) and starts again, all in the same app instance.
 */
describe('database outage', () => {
  let pg: ThrowawayPostgres;
  let app: TestApp;
  let tenant: Tenant;
  const chats = () => `/api/v1/sessions/${tenant.sessionId}/chats`;

  beforeAll(async () => {
    pg = await ThrowawayPostgres.create();
    await pg.start();
    app = await TestApp.start({
      DATABASE_URL: pg.url,
      DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      DATABASE_HEALTH_TIMEOUT_MS: '500',
      DATABASE_MIGRATE_ON_START: 'true',
    });
    tenant = await app.createTenant();
    await app.insertChats(tenant.sessionId, [{ name: 'kept' }]);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await pg?.destroy();
  });

  async function sample(path: string): Promise<Sample> {
    const startedAt = Date.now();
    const response: HttpResult = await app.request(path, { token: tenant.apiKey });
    return { status: response.status, code: response.body?.error?.code, retryAfter: response.headers.get('retry-after'), elapsedMs: Date.now() - startedAt };
  }

  async function samples(path: string, count: number): Promise<Sample[]> {
    const result: Sample[] = [];
    for (let i = 0; i < count; i++) result.push(await sample(path));
    return result;
  }

  /** Polls until `path` answers 200, for at most `withinMs`; returns every sample taken. */
  async function untilOk(path: string, withinMs: number): Promise<Sample[]> {
    const taken: Sample[] = [];
    const deadline = Date.now() + withinMs;
    while (Date.now() < deadline) {
      const current = await sample(path);
      taken.push(current);
      if (current.status === 200) return taken;
      await sleep(100);
    }
    return taken;
  }

  it('serves, answers 503 unavailable fast while PostgreSQL is down or silent, and recovers by itself', async () => {
    expect((await sample(chats())).status).toBe(200);
    expect((await sample('/readyz')).status).toBe(200);

    // 1. The server is stopped: connections are refused.
    await pg.stop();
    const refused = await samples(chats(), 5);
    for (const current of refused) {
      expect(current).toMatchObject({ status: 503, code: 'unavailable', retryAfter: '1' });
      expect(current.elapsedMs).toBeLessThan(RESPONSE_BOUND_MS);
    }
    const refusedReadiness = await app.request('/readyz');
    expect(refusedReadiness.status).toBe(503);
    expect(refusedReadiness.body.error.database).toEqual({ status: 'down' });
    expect((await app.request('/healthz')).status).toBe(200);

    // 2. Something accepts connections and never answers: the connect timeout bounds every request.
    await pg.swallowConnections();
    const silent = await samples(chats(), 3);
    for (const current of silent) {
      expect(current).toMatchObject({ status: 503, code: 'unavailable' });
      expect(current.elapsedMs).toBeLessThan(RESPONSE_BOUND_MS);
    }
    const readinessStartedAt = Date.now();
    expect((await app.request('/readyz')).status).toBe(503);
    expect(Date.now() - readinessStartedAt).toBeLessThan(RESPONSE_BOUND_MS);

    // 3. PostgreSQL is back: the same app instance serves again within seconds.
    await pg.stopSwallowing();
    await pg.start();
    const recovery = await untilOk(chats(), 10_000);
    expect(recovery[recovery.length - 1].status).toBe(200);
    for (const current of recovery.slice(0, -1)) expect(current).toMatchObject({ status: 503, code: 'unavailable' });
    const readiness = await untilOk('/readyz', 5_000);
    expect(readiness[readiness.length - 1].status).toBe(200);
    const body = (await app.request(chats(), { token: tenant.apiKey })).body;
    expect(body.data.map((chat: { name: string }) => chat.name)).toEqual(['kept']);
  }, 60_000);
});
