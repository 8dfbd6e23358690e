import { generateKeyPairSync } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { JwksKeyStore } from './jwks-key-store';

/** Pure caching logic against a real HTTP server on loopback, with a controllable clock. */
describe('JwksKeyStore', () => {
  let server: Server;
  let requests = 0;
  let up = true;
  let keys: Record<string, unknown>[] = [];
  let url: string;
  let clock = 1_000_000;

  const jwk = (kid: string) => ({ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid, alg: 'ES256' });
  const store = () => new JwksKeyStore({ jwksUrl: url, cacheSeconds: 60, refetchCooldownSeconds: 10, maxStaleSeconds: 600, timeoutMs: 1000 }, () => clock);

  beforeAll(async () => {
    server = createServer((_request, response) => {
      requests++;
      if (!up) {
        response.statusCode = 503;
        response.end();
        return;
      }
      response.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    requests = 0;
    up = true;
    keys = [jwk('a')];
  });

  it('fetches once and serves from the cache', async () => {
    const keyStore = store();
    expect(await keyStore.keyFor({ kid: 'a', alg: 'ES256' })).toBeDefined();
    expect(await keyStore.keyFor({ kid: 'a', alg: 'ES256' })).toBeDefined();
    expect(requests).toBe(1);
  });

  it('refuses a key whose declared alg differs from the token', async () => {
    expect(await store().keyFor({ kid: 'a', alg: 'RS256' })).toBeUndefined();
  });

  it('refetches an unknown kid at most once per cooldown', async () => {
    const keyStore = store();
    await keyStore.keyFor({ kid: 'a', alg: 'ES256' });
    clock += 11_000;
    await Promise.all(Array.from({ length: 10 }, () => keyStore.keyFor({ kid: 'nope', alg: 'ES256' })));
    expect(requests).toBe(2);
    keys.push(jwk('b'));
    expect(await keyStore.keyFor({ kid: 'b', alg: 'ES256' })).toBeUndefined();
    clock += 11_000;
    expect(await keyStore.keyFor({ kid: 'b', alg: 'ES256' })).toBeDefined();
    expect(requests).toBe(3);
  });

  it('keeps the last good set while the endpoint is down, up to the max staleness', async () => {
    const keyStore = store();
    await keyStore.keyFor({ kid: 'a', alg: 'ES256' });
    up = false;
    clock += 120_000;
    expect(await keyStore.keyFor({ kid: 'a', alg: 'ES256' })).toBeDefined();
    clock += 500_000;
    expect(await keyStore.keyFor({ kid: 'a', alg: 'ES256' })).toBeUndefined();
  });

  it('never looks up a kid with unsafe characters', async () => {
    const keyStore = store();
    expect(await keyStore.keyFor({ kid: '../a', alg: 'ES256' })).toBeUndefined();
    expect(await keyStore.keyFor({ kid: { $ne: 1 }, alg: 'ES256' })).toBeUndefined();
    expect(requests).toBe(0);
  });

  it('ignores symmetric and encryption keys in the set', async () => {
    keys = [{ kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' }, { ...jwk('enc'), use: 'enc' }, jwk('a')];
    const keyStore = store();
    expect(await keyStore.keyFor({ kid: 'hmac', alg: 'HS256' })).toBeUndefined();
    expect(await keyStore.keyFor({ kid: 'enc', alg: 'ES256' })).toBeUndefined();
    expect(await keyStore.keyFor({ kid: 'a', alg: 'ES256' })).toBeDefined();
  });

  it('accepts a token without kid only when the set leaves no choice', async () => {
    expect(await store().keyFor({ alg: 'ES256' })).toBeDefined();
    keys = [jwk('a'), jwk('b')];
    expect(await store().keyFor({ alg: 'ES256' })).toBeUndefined();
  });
});
