import { TestApp } from '../support/test-app';

const chatsPath = (sessionId: string) => `/api/v1/sessions/${sessionId}/chats`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('API key authentication', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await TestApp.start({ AUTH_API_KEY_CACHE_SECONDS: '1' });
  });
  afterAll(async () => {
    await app.close();
  });

  it('a key with read lists the chats of its org', async () => {
    const tenant = await app.createTenant(['read']);
    await app.insertChats(tenant.sessionId, [{ name: 'Bob' }]);
    const response = await app.request(chatsPath(tenant.sessionId), { token: tenant.apiKey });
    expect(response.status).toBe(200);
    expect(response.body.data[0].name).toBe('Bob');
  });

  it('the scheme name is case-insensitive', async () => {
    const tenant = await app.createTenant(['read']);
    const response = await app.request(chatsPath(tenant.sessionId), { headers: { authorization: `bearer ${tenant.apiKey}` } });
    expect(response.status).toBe(200);
  });

  it('stores only a hash of the secret', async () => {
    const tenant = await app.createTenant(['read']);
    const [row] = await app.dataSource.query('SELECT * FROM api_keys WHERE id = $1', [tenant.apiKeyId]);
    const secret = tenant.apiKey.split('_').slice(2).join('_');
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(row.secret_hash).toHaveLength(32);
    expect(tenant.apiKey).toMatch(/^wgk_[0-9A-Z]{26}_[A-Za-z0-9_-]{43}$/);
  });

  it('a key without read gets 403 forbidden, decided before the session is looked up', async () => {
    const tenant = await app.createTenant(['send']);
    const own = await app.request(chatsPath(tenant.sessionId), { token: tenant.apiKey });
    const missing = await app.request(chatsPath('01J9ZX8K2QHV0M3T6R7P4N5W8C'), { token: tenant.apiKey });
    for (const response of [own, missing]) {
      expect(response.status).toBe(403);
      expect(response.body).toEqual({
        error: { code: 'forbidden', message: 'the caller lacks the read capability', details: { capability: 'read' } },
      });
    }
    expect(missing.text).toBe(own.text);
  });

  it.each([
    ['no Authorization header', undefined],
    ['an empty bearer token', 'Bearer '],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['an unknown key of the right shape', `Bearer wgk_01J9ZX8K2QHV0M3T6R7P4N5W8C_${'A'.repeat(43)}`],
    ['a key with a wrong prefix', `Bearer xyz_01J9ZX8K2QHV0M3T6R7P4N5W8C_${'A'.repeat(43)}`],
    ['a truncated key', 'Bearer wgk_01J9ZX8K2QHV0M3T6R7P4N5W8C_AAAA'],
    ['two tokens', 'Bearer a b'],
  ])('%s is 401 unauthenticated', async (_label, authorization) => {
    const tenant = await app.createTenant(['read']);
    const response = await app.request(chatsPath(tenant.sessionId), { headers: authorization ? { authorization } : {} });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(response.body).toEqual({ error: { code: 'unauthenticated', message: 'missing or invalid credentials', details: {} } });
  });

  it('a key whose secret part is altered is 401 even though its id exists', async () => {
    const tenant = await app.createTenant(['read']);
    const altered = withLastCharacterChanged(tenant.apiKey);
    const response = await app.request(chatsPath(tenant.sessionId), { token: altered });
    expect(response.status).toBe(401);
  });

  it('once the genuine key has been verified (and cached), an altered secret for the same id is still 401', async () => {
    const tenant = await app.createTenant(['read']);
    const altered = withLastCharacterChanged(tenant.apiKey);
    const truncated = tenant.apiKey.slice(0, -1);
    expect((await app.request(chatsPath(tenant.sessionId), { token: tenant.apiKey })).status).toBe(200);
    expect((await app.request(chatsPath(tenant.sessionId), { token: altered })).status).toBe(401);
    expect((await app.request(chatsPath(tenant.sessionId), { token: truncated })).status).toBe(401);
    expect((await app.request(chatsPath(tenant.sessionId), { token: tenant.apiKey })).status).toBe(200);
  });

  it('a revoked key stops working once the cache expires, on a replica that did not revoke it', async () => {
    const tenant = await app.createTenant(['read']);
    expect((await app.request(chatsPath(tenant.sessionId), { token: tenant.apiKey })).status).toBe(200);
    // Revoke behind this replica's back, as another replica or the CLI would.
    await app.dataSource.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [tenant.apiKeyId]);
    await sleep(1100);
    const response = await app.request(chatsPath(tenant.sessionId), { token: tenant.apiKey });
    expect(response.status).toBe(401);
  });

  it('a key revoked through this replica stops working at once', async () => {
    const tenant = await app.createTenant(['read']);
    expect((await app.request(chatsPath(tenant.sessionId), { token: tenant.apiKey })).status).toBe(200);
    expect(await app.apiKeys.revoke(tenant.apiKeyId, tenant.orgId)).toBe(true);
    expect((await app.request(chatsPath(tenant.sessionId), { token: tenant.apiKey })).status).toBe(401);
    expect(await app.apiKeys.revoke(tenant.apiKeyId, tenant.orgId)).toBe(false);
  });

  it('records last use without writing on every request', async () => {
    const tenant = await app.createTenant(['read']);
    const lastUsed = async () => (await app.dataSource.query('SELECT last_used_at FROM api_keys WHERE id = $1', [tenant.apiKeyId]))[0].last_used_at;
    expect(await lastUsed()).toBeNull();
    for (let i = 0; i < 5; i++) await app.request(chatsPath(tenant.sessionId), { token: tenant.apiKey });
    expect(await lastUsed()).toBeNull();
    await app.apiKeys.flushLastUsed();
    const first = await lastUsed();
    expect(first).toBeInstanceOf(Date);
    await app.request(chatsPath(tenant.sessionId), { token: tenant.apiKey });
    await app.apiKeys.flushLastUsed();
    expect(await lastUsed()).toEqual(first);
  });
});

/** The same key id with a secret that differs in its last character. */
function withLastCharacterChanged(key: string): string {
  return `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
}
