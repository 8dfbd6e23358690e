import { randomBytes, randomUUID } from 'node:crypto';
import { ulid } from 'ulid';
import { openApiValidator } from '../support/openapi-validator';
import { TestApp, Tenant } from '../support/test-app';
import { acceptsConnectionsSync } from '../support/tcp-probe';
import { freePort } from '../support/throwaway-postgres';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
// Redis is optional for the gateway, and a new user's machine may have none: there the shared-count
// tests are skipped with a message. In CI (CI set; .ci/run starts Redis) they always run.
const redis = new URL(REDIS_URL);
const redisRuns = Boolean(process.env.CI) || acceptsConnectionsSync(redis.hostname, Number(redis.port || 6379));
if (!redisRuns) console.warn(`Rate limits in Redis: skipped, nothing answers at ${REDIS_URL} (set TEST_REDIS_URL, or run redis-server).`);
const chats = (tenant: Tenant) => `/api/v1/sessions/${tenant.sessionId}/chats`;

describe('rate limiting', () => {
  describe('in memory (no REDIS_URL)', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await TestApp.start({ RATE_LIMIT_PER_CALLER: '3', RATE_LIMIT_PER_ORG: '5', RATE_LIMIT_WINDOW_MS: '60000', REDIS_URL: '' });
    });
    afterAll(async () => {
      await app.close();
    });

    it('admits N requests per caller with RateLimit headers, and refuses the N+1th with 429 rate_limited and Retry-After', async () => {
      const tenant = await app.createTenant();
      const admitted = [];
      for (let i = 0; i < 3; i++) admitted.push(await app.request(chats(tenant), { token: tenant.apiKey }));
      expect(admitted.map((response) => response.status)).toEqual([200, 200, 200]);
      expect(admitted[0].headers.get('ratelimit-policy')).toBe('"caller";q=3;w=60, "org";q=5;w=60');
      expect(admitted.map((response) => response.headers.get('ratelimit'))).toEqual([
        expect.stringMatching(/^"caller";r=2;t=\d+, "org";r=4;t=\d+$/),
        expect.stringMatching(/^"caller";r=1;t=\d+, "org";r=3;t=\d+$/),
        expect.stringMatching(/^"caller";r=0;t=\d+, "org";r=2;t=\d+$/),
      ]);

      const refused = await app.request(chats(tenant), { token: tenant.apiKey });
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({
        error: { code: 'rate_limited', message: 'rate limit exceeded', details: { policy: 'caller', limit: 3, retryAfterSeconds: expect.any(Number) } },
      });
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(refused.body.error.details.retryAfterSeconds).toBe(retryAfter);
      expect(refused.headers.get('ratelimit')).toMatch(/^"caller";r=0;t=\d+/);
      // TestApp.request checked it against openapi.json: 429 is documented, with these headers.
      expect(openApiValidator().seen.has('listChats 429')).toBe(true);
    });

    it('counts every key of an org against the org limit', async () => {
      const first = await app.createTenant();
      const second = await app.apiKeys.create(first.orgId, ['read'], 'second key');
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await app.request(chats(first), { token: first.apiKey })).status);
      for (let i = 0; i < 2; i++) statuses.push((await app.request(chats(first), { token: second.key })).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200]);
      // The second key has used 2 of its own 3, but the org has used its 5.
      const refused = await app.request(chats(first), { token: second.key });
      expect(refused.status).toBe(429);
      expect(refused.body.error.details).toEqual({ policy: 'org', limit: 5, retryAfterSeconds: expect.any(Number) });
    });

    it('keeps callers of other orgs apart, and never limits public routes or unauthenticated requests', async () => {
      const busy = await app.createTenant();
      for (let i = 0; i < 4; i++) await app.request(chats(busy), { token: busy.apiKey });
      const other = await app.createTenant();
      expect((await app.request(chats(other), { token: other.apiKey })).status).toBe(200);
      for (let i = 0; i < 8; i++) expect((await app.request('/healthz')).status).toBe(200);
      const anonymous = await app.request(chats(busy));
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('ratelimit')).toBeNull();
    });
  });

  (redisRuns ? describe : describe.skip)('in Redis (REDIS_URL set)', () => {
    it('two app instances sharing Redis enforce one limit', async () => {
      const env = { REDIS_URL, RATE_LIMIT_REDIS_PREFIX: `gw:test:${randomUUID()}:`, RATE_LIMIT_PER_CALLER: '4', RATE_LIMIT_PER_ORG: '100' };
      const [one, two] = await Promise.all([TestApp.start(env), TestApp.start(env)]);
      try {
        const tenant = await one.createTenant();
        const statuses: number[] = [];
        for (const app of [one, two, one, two, one, two]) statuses.push((await app.request(chats(tenant), { token: tenant.apiKey })).status);
        expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
        const refused = await two.request(chats(tenant), { token: tenant.apiKey });
        expect(refused.body.error.code).toBe('rate_limited');
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      } finally {
        await Promise.all([one.close(), two.close()]);
      }
    });

    it('failed authentications from one address add up across app instances: each refuses it once it is out of failures', async () => {
      const env = { REDIS_URL, RATE_LIMIT_REDIS_PREFIX: `gw:test:${randomUUID()}:`, AUTH_FAILURES_PER_ADDRESS: '4', AUTH_FAILURE_WINDOW_SECONDS: '60' };
      const [one, two] = await Promise.all([TestApp.start(env), TestApp.start(env)]);
      try {
        const tenant = await one.createTenant();
        const madeUp = `wgk_${ulid()}_${randomBytes(32).toString('base64url')}`;
        const statuses: number[] = [];
        // Alone, each instance would admit four failures; together they admit four.
        for (const app of [one, two, one, two]) statuses.push((await app.request(chats(tenant), { token: madeUp })).status);
        expect(statuses).toEqual([401, 401, 401, 401]);
        // `two` counted the fourth failure: it refuses the address at once, even with a valid key.
        expect((await two.request(chats(tenant), { token: tenant.apiKey })).status).toBe(429);
        // `one` learns it at the address's next failure there (one attempt more, counted in Redis).
        expect((await one.request(chats(tenant), { token: madeUp })).status).toBe(401);
        const refused = await one.request(chats(tenant), { token: tenant.apiKey });
        expect(refused.status).toBe(429);
        expect(refused.body.error.details).toEqual({ policy: 'auth_failures', limit: 4, retryAfterSeconds: expect.any(Number) });
      } finally {
        await Promise.all([one.close(), two.close()]);
      }
    });
  });

  describe('with REDIS_URL pointing at nothing', () => {
    it('still serves and counts in memory (fail open, per replica)', async () => {
      const deadPort = await freePort();
      const app = await TestApp.start({ REDIS_URL: `redis://127.0.0.1:${deadPort}`, RATE_LIMIT_PER_CALLER: '2', RATE_LIMIT_REDIS_TIMEOUT_MS: '100' });
      try {
        const tenant = await app.createTenant();
        const statuses: number[] = [];
        for (let i = 0; i < 3; i++) statuses.push((await app.request(chats(tenant), { token: tenant.apiKey })).status);
        expect(statuses).toEqual([200, 200, 429]);
      } finally {
        await app.close();
      }
    });
  });
});
