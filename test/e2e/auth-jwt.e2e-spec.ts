import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { generateSigningKey, hs256WithPublicKey, JwksServer, signJwt, SigningKeyPair, unsignedJwt } from '../support/jwt-issuer';
import { TestApp, Tenant } from '../support/test-app';

const ISSUER = 'https://login.example.test/';
const AUDIENCE = 'whatsapp-gateway';
const chatsPath = (sessionId: string) => `/api/v1/sessions/${sessionId}/chats`;
const now = () => Math.floor(Date.now() / 1000);

describe('login JWT authentication (JWKS on loopback)', () => {
  let jwks: JwksServer;
  let key: SigningKeyPair;
  let ecKey: SigningKeyPair;
  let app: TestApp;
  let tenant: Tenant;
  let attacker: { server: Server; requests: number; url: string };

  const claims = (overrides: Record<string, unknown> = {}) => ({
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'user-1',
    org_id: tenant.orgId,
    role: 'viewer',
    iat: now(),
    exp: now() + 300,
    ...overrides,
  });
  const call = (token: string) => app.request(chatsPath(tenant.sessionId), { token });

  beforeAll(async () => {
    key = generateSigningKey('key-1', 'RS256');
    ecKey = generateSigningKey('key-ec', 'ES256');
    jwks = new JwksServer();
    jwks.keys = [key.publicJwk, ecKey.publicJwk];
    await jwks.start();
    attacker = { server: createServer(), requests: 0, url: '' };
    attacker.server.on('request', (_request, response) => {
      attacker.requests++;
      response.end(JSON.stringify({ keys: [] }));
    });
    await new Promise<void>((resolve) => attacker.server.listen(0, '127.0.0.1', resolve));
    attacker.url = `http://127.0.0.1:${(attacker.server.address() as AddressInfo).port}/jwks.json`;

    app = await TestApp.start({
      AUTH_JWKS_URL: jwks.url,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
      AUTH_JWKS_REFETCH_COOLDOWN_SECONDS: '30',
      // This file sends far more bad tokens from loopback than the per-address limit admits (auth-abuse.e2e-spec.ts tests it).
      AUTH_FAILURES_PER_ADDRESS: '0',
    });
    tenant = await app.createTenant([]);
    await app.insertChats(tenant.sessionId, [{ name: 'Alice' }]);
  });
  afterAll(async () => {
    await app.close();
    await jwks.stop();
    await new Promise((resolve) => attacker.server.close(resolve));
  });

  it('accepts a valid RS256 token: org and role come from the claims', async () => {
    const response = await call(signJwt(key, claims()));
    expect(response.status).toBe(200);
    expect(response.body.data[0].name).toBe('Alice');
  });

  it('accepts a valid ES256 token and a role given as a list', async () => {
    const response = await call(signJwt(ecKey, claims({ role: ['unknown-role', 'member'] })));
    expect(response.status).toBe(200);
  });

  it('tolerates a small clock skew', async () => {
    const response = await call(signJwt(key, claims({ exp: now() - 5, iat: now() - 300 })));
    expect(response.status).toBe(200);
  });

  it('a valid token whose role lacks read gets 403, not data', async () => {
    const response = await call(signJwt(key, claims({ role: 'guest' })));
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('forbidden');
  });

  it('a valid token of another org gets the same 404 as a missing session', async () => {
    const response = await call(signJwt(key, claims({ org_id: 'some-other-org' })));
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: { code: 'not_found', message: 'session not found', details: {} } });
  });

  describe('every invalid token is 401 unauthenticated with WWW-Authenticate: Bearer', () => {
    const otherKey = generateSigningKey('key-1', 'RS256');
    const cases: [string, () => string][] = [
      ['expired', () => signJwt(key, claims({ exp: now() - 3600, iat: now() - 7200 }))],
      ['not yet valid', () => signJwt(key, claims({ nbf: now() + 3600 }))],
      ['wrong issuer', () => signJwt(key, claims({ iss: 'https://evil.example.test/' }))],
      ['wrong audience', () => signJwt(key, claims({ aud: 'another-service' }))],
      ['missing exp', () => signJwt(key, claims({ exp: undefined }))],
      ['missing org claim', () => signJwt(key, claims({ org_id: undefined }))],
      ['empty org claim', () => signJwt(key, claims({ org_id: '' }))],
      ['non-string org claim', () => signJwt(key, claims({ org_id: 42 }))],
      ['signed by an unknown key with a known kid', () => signJwt(otherKey, claims())],
      ['unknown kid', () => signJwt(generateSigningKey('key-unknown', 'ES256'), claims())],
      ['kid with path characters', () => signJwt(key, claims(), { kid: '../../etc/passwd' })],
      ['kid with SQL characters', () => signJwt(key, claims(), { kid: "key-1' OR '1'='1" })],
      ['alg none', () => unsignedJwt(claims(), { kid: 'key-1' })],
      ['alg none with a signature', () => `${unsignedJwt(claims(), { kid: 'key-1' })}c2ln`],
      ['HS256 signed with the public key', () => hs256WithPublicKey(key, claims())],
      ['RS256 header on an ES256 key', () => signJwt({ ...ecKey, alg: 'ES256' }, claims(), { alg: 'RS256', kid: 'key-ec' })],
      [
        'a tampered payload',
        () => {
          const [header, , signature] = signJwt(key, claims()).split('.');
          return `${header}.${Buffer.from(JSON.stringify(claims({ org_id: 'other' }))).toString('base64url')}.${signature}`;
        },
      ],
      ['garbage with two dots', () => 'a.b.c'],
      ['a non-JSON header', () => `${Buffer.from('{{').toString('base64url')}.e30.c2ln`],
    ];

    it.each(cases)('%s', async (_label, makeToken) => {
      const response = await call(makeToken());
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(response.body).toEqual({ error: { code: 'unauthenticated', message: 'missing or invalid credentials', details: {} } });
    });
  });

  it('never fetches keys from jku, x5u or an embedded jwk header', async () => {
    const rogue = generateSigningKey('rogue-kid', 'ES256');
    const before = attacker.requests;
    for (const header of [{ jku: attacker.url }, { x5u: attacker.url }, { jwk: rogue.publicJwk }]) {
      const response = await call(signJwt(rogue, claims(), header));
      expect(response.status).toBe(401);
    }
    expect(attacker.requests).toBe(before);
  });

  it('a burst of unknown kids triggers at most one refetch of the configured JWKS URL per cooldown', async () => {
    const before = jwks.requests;
    const tokens = Array.from({ length: 25 }, (_, i) => signJwt(generateSigningKey(`burst-${i}`, 'ES256'), claims()));
    const responses = await Promise.all(tokens.map(call));
    expect(responses.every((response) => response.status === 401)).toBe(true);
    expect(jwks.requests - before).toBeLessThanOrEqual(1);
  });
});

describe('login JWT when the JWKS endpoint goes down', () => {
  it('keeps accepting tokens from the last good key set, and picks up a rotated key after it returns', async () => {
    const key = generateSigningKey('key-a');
    const jwks = new JwksServer();
    jwks.keys = [key.publicJwk];
    await jwks.start();
    const app = await TestApp.start({
      AUTH_JWKS_URL: jwks.url,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
      // Stale after 10 s, refetch at most every second: the outage below forces refetch attempts.
      AUTH_JWKS_CACHE_SECONDS: '10',
      AUTH_JWKS_REFETCH_COOLDOWN_SECONDS: '1',
    });
    try {
      const tenant = await app.createTenant([]);
      const token = (signingKey: SigningKeyPair) => signJwt(signingKey, { iss: ISSUER, aud: AUDIENCE, org_id: tenant.orgId, role: 'owner', exp: now() + 300 });
      expect((await app.request(chatsPath(tenant.sessionId), { token: token(key) })).status).toBe(200);

      await jwks.stop();
      const rotated = generateSigningKey('key-b');
      // Unknown kid while the endpoint is down: a refetch is attempted, fails, and the kept set still serves key-a.
      expect((await app.request(chatsPath(tenant.sessionId), { token: token(rotated) })).status).toBe(401);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await app.request(chatsPath(tenant.sessionId), { token: token(key) })).status).toBe(200);

      jwks.keys = [key.publicJwk, rotated.publicJwk];
      await jwks.start();
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await app.request(chatsPath(tenant.sessionId), { token: token(rotated) })).status).toBe(200);
    } finally {
      await app.close();
      await jwks.stop();
    }
  });
});
