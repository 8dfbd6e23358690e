import { randomBytes } from 'node:crypto';
import { ulid } from 'ulid';
import { generateSigningKey, JwksServer, signJwt, SigningKeyPair } from '../support/jwt-issuer';
import { TestApp, Tenant } from '../support/test-app';

const chats = (tenant: Tenant) => `/api/v1/sessions/${tenant.sessionId}/chats`;
const madeUpKey = () => `wgk_${ulid()}_${randomBytes(32).toString('base64url')}`;

/** Failed authentication costs an attacker, not the gateway or its other callers. */
describe('Authentication abuse', () => {
  describe('a limit on 401s per client address', () => {
    it('after AUTH_FAILURES_PER_ADDRESS failures the address gets 429 before its token is looked at; X-Forwarded-For is ignored without TRUST_PROXY', async () => {
      const app = await TestApp.start({ AUTH_FAILURES_PER_ADDRESS: '5', AUTH_FAILURE_WINDOW_SECONDS: '60', TRUST_PROXY: 'false' });
      try {
        const tenant = await app.createTenant(['read']);
        const statuses: number[] = [];
        // A client that varies X-Forwarded-For is still one address: the socket's.
        for (let i = 0; i < 5; i++) {
          statuses.push((await app.request(chats(tenant), { token: madeUpKey(), headers: { 'x-forwarded-for': `203.0.113.${i}` } })).status);
        }
        expect(statuses).toEqual([401, 401, 401, 401, 401]);
        const refused = await app.request(chats(tenant), { token: madeUpKey(), headers: { 'x-forwarded-for': '198.51.100.7' } });
        expect(refused.status).toBe(429);
        expect(refused.body.error).toEqual({
          code: 'rate_limited',
          message: 'too many failed authentication attempts from this address',
          details: { policy: 'auth_failures', limit: 5, retryAfterSeconds: expect.any(Number) },
        });
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
        // Refused before the token is looked at: even a valid key from this address waits out the window.
        expect((await app.request(chats(tenant), { token: tenant.apiKey })).status).toBe(429);
        // No token at all counts the same.
        expect((await app.request(chats(tenant))).status).toBe(429);
      } finally {
        await app.close();
      }
    });

    it('behind a trusted proxy (TRUST_PROXY hop count) each client address has its own count', async () => {
      const app = await TestApp.start({ AUTH_FAILURES_PER_ADDRESS: '3', TRUST_PROXY: '1' });
      try {
        const tenant = await app.createTenant(['read']);
        const from = (address: string, token?: string) => app.request(chats(tenant), { token, headers: { 'x-forwarded-for': address } });
        for (let i = 0; i < 3; i++) expect((await from('203.0.113.10', madeUpKey())).status).toBe(401);
        expect((await from('203.0.113.10', madeUpKey())).status).toBe(429);
        // Another client behind the same proxy is not held back.
        expect((await from('203.0.113.11', madeUpKey())).status).toBe(401);
        expect((await from('203.0.113.11', tenant.apiKey)).status).toBe(200);
        // The proxy appends the address it saw; a client's own forged entry further left does not count.
        expect((await from('198.51.100.1, 203.0.113.10', tenant.apiKey)).status).toBe(429);
        // IPv6 clients are counted by their /64.
        for (let i = 0; i < 3; i++) expect((await from(`2001:db8:1:2::${i + 1}`, madeUpKey())).status).toBe(401);
        expect((await from('2001:db8:1:2:ffff::9', madeUpKey())).status).toBe(429);
        expect((await from('2001:db8:1:3::1', tenant.apiKey)).status).toBe(200);
      } finally {
        await app.close();
      }
    });
  });

  it('10,000 made-up API keys do not push a real key out of the cache (negative answers are kept apart)', async () => {
    const app = await TestApp.start({ AUTH_FAILURES_PER_ADDRESS: '0', AUTH_API_KEY_CACHE_SECONDS: '60' });
    try {
      const tenant = await app.createTenant(['read']);
      expect((await app.request(chats(tenant), { token: tenant.apiKey })).status).toBe(200);
      const caches = app.apiKeys as unknown as { cache: Map<string, unknown>; unknownIds: Map<string, unknown> };
      expect(caches.cache.has(tenant.apiKeyId)).toBe(true);
      // Straight to the authenticator the guard calls (10,000 requests over HTTP cost minutes on a
      // loaded machine; the cache is the service's, whatever carried the token there).
      const tokens = Array.from({ length: 10_000 }, madeUpKey);
      let admitted = 0;
      const workers = Array.from({ length: 10 }, async (_, worker) => {
        for (let i = worker; i < tokens.length; i += 10) if (await app.apiKeys.authenticate(tokens[i])) admitted++;
      });
      await Promise.all(workers);
      expect(admitted).toBe(0);
      // The real key's entry is still there (looked at directly: an HTTP proof, a key revoked behind
      // the service's back and still admitted, needs the flood to end within the cache's 60 s, which
      // a loaded machine does not), and the made-up ids stayed in their own small cache.
      expect(caches.cache.has(tenant.apiKeyId)).toBe(true);
      expect(caches.cache.size).toBe(1);
      expect(caches.unknownIds.size).toBeLessThanOrEqual(1000);
    } finally {
      await app.close();
    }
  }, 120_000);

  describe('login JWTs without a subject', () => {
    const ISSUER = 'https://login.example.test';
    const AUDIENCE = 'whatsapp-gateway';
    let jwks: JwksServer;
    let key: SigningKeyPair;
    let app: TestApp;
    let tenant: Tenant;

    beforeAll(async () => {
      key = generateSigningKey('key-1');
      jwks = new JwksServer();
      jwks.keys = [key.publicJwk];
      await jwks.start();
      app = await TestApp.start({
        AUTH_JWKS_URL: jwks.url,
        AUTH_JWT_ISSUER: ISSUER,
        AUTH_JWT_AUDIENCE: AUDIENCE,
        RATE_LIMIT_PER_CALLER: '2',
        RATE_LIMIT_PER_ORG: '1000',
        REDIS_URL: '',
      });
      tenant = await app.createTenant([]);
    });
    afterAll(async () => {
      await app.close();
      await jwks.stop();
    });

    const token = (jti: string) =>
      signJwt(key, {
        iss: ISSUER,
        aud: AUDIENCE,
        org_id: tenant.orgId,
        role: 'viewer',
        jti,
        iat: Math.floor(Date.now() / 1000),
        exp: Math.floor(Date.now() / 1000) + 300,
      });

    it('each token is a caller of its own: one exhausting its limit does not refuse another of the same org', async () => {
      const first = token('first');
      expect((await app.request(chats(tenant), { token: first })).status).toBe(200);
      expect((await app.request(chats(tenant), { token: first })).status).toBe(200);
      expect((await app.request(chats(tenant), { token: first })).status).toBe(429);
      const second = token('second');
      expect((await app.request(chats(tenant), { token: second })).status).toBe(200);
    });
  });
});
