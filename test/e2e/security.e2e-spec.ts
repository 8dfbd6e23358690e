import { TestApp } from '../support/test-app';

const FRONTEND = 'https://app.example.com';

describe('HTTP security', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await TestApp.start({ CORS_ORIGINS: `${FRONTEND}, https://admin.example.com` });
  });
  afterAll(async () => {
    await app.close();
  });

  it("sends an API's security headers and no X-Powered-By on API, error, probe and document responses alike", async () => {
    const tenant = await app.createTenant();
    const responses = [
      await app.request(`/api/v1/sessions/${tenant.sessionId}/chats`, { token: tenant.apiKey }),
      await app.request('/api/v1/sessions/x/chats'),
      await app.request('/nope'),
      await app.request('/healthz'),
      await app.request('/docs-json'),
    ];
    expect(responses.map((response) => response.status)).toEqual([200, 401, 404, 200, 200]);
    for (const { headers } of responses) {
      expect(headers.get('x-powered-by')).toBeNull();
      expect(headers.get('cache-control')).toContain('no-store');
      expect(headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('x-frame-options')).toBe('DENY');
      // helmet's headers for HTML pages are for Swagger UI only.
      expect(headers.get('cross-origin-opener-policy')).toBeNull();
      expect(headers.get('x-xss-protection')).toBeNull();
    }
  });

  it("sends helmet's headers for HTML pages on Swagger UI and its assets", async () => {
    const page = await app.request('/docs');
    const script = await app.request('/docs/swagger-ui-init.js');
    for (const { status, headers } of [page, script]) {
      expect(status).toBe(200);
      expect(headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
      expect(headers.get('referrer-policy')).toBe('no-referrer');
      expect(headers.get('cross-origin-opener-policy')).toBe('same-origin');
    }
  });

  it('keeps Swagger UI loadable under the content security policy (no inline scripts)', async () => {
    const page = await app.request('/docs');
    expect(page.status).toBe(200);
    const inlineScripts = [...page.text.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].filter((match) => match[1].trim() !== '');
    expect(inlineScripts).toEqual([]);
    const scripts = [...page.text.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((match) => match[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      expect(src).not.toMatch(/^(https?:)?\/\//);
      expect((await app.request(new URL(src, `${app.baseUrl}/docs`).pathname)).status).toBe(200);
    }
  });

  describe('CORS (CORS_ORIGINS)', () => {
    it('allows a configured origin, and exposes the headers a browser client needs', async () => {
      const tenant = await app.createTenant();
      const response = await app.request(`/api/v1/sessions/${tenant.sessionId}/chats`, { token: tenant.apiKey, headers: { origin: FRONTEND } });
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe(FRONTEND);
      expect(response.headers.get('vary')).toContain('Origin');
      const exposed = response.headers
        .get('access-control-expose-headers')!
        .split(',')
        .map((name) => name.trim());
      expect(exposed).toEqual(expect.arrayContaining(['X-Request-Id', 'Retry-After', 'RateLimit', 'RateLimit-Policy']));
    });

    it('answers a preflight from a configured origin', async () => {
      const response = await app.request('/api/v1/sessions/x/chats', {
        method: 'OPTIONS',
        headers: { origin: FRONTEND, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(FRONTEND);
      expect(response.headers.get('access-control-allow-headers')).toContain('Authorization');
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    });

    it('gives no CORS grant to another origin', async () => {
      const response = await app.request('/healthz', { headers: { origin: 'https://evil.example.net' } });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('sends no CORS headers at all when CORS_ORIGINS is unset', async () => {
      const plain = await TestApp.start();
      try {
        const response = await plain.request('/healthz', { headers: { origin: FRONTEND } });
        expect(response.headers.get('access-control-allow-origin')).toBeNull();
      } finally {
        await plain.close();
      }
    });
  });

  it('refuses a body over 256 kB with 413 payload_too_large', async () => {
    const response = await app.request('/api/v1/sessions/x/chats', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ padding: 'x'.repeat(300 * 1024) }),
    });
    expect(response.status).toBe(413);
    expect(response.body).toEqual({ error: { code: 'payload_too_large', message: 'request body is too large', details: {} } });
  });
});
