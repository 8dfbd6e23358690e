import fc from 'fast-check';
import { TestApp, Tenant } from '../support/test-app';

/**
 * Whatever is thrown at the endpoint (any limit, any cursor, any path segment), the answer is a 200
 * page or a 4xx envelope: never a 5xx, never a body of another shape.
 */
describe('List chats under random input', () => {
  let app: TestApp;
  let tenant: Tenant;
  let validCursor: string;

  beforeAll(async () => {
    app = await TestApp.start();
    tenant = await app.createTenant(['read']);
    await app.insertChats(tenant.sessionId, Array.from({ length: 30 }, (_, i) => ({ lastMessageAt: i % 4 ? i * 1000 : null })));
    validCursor = (await app.request(`/api/v1/sessions/${tenant.sessionId}/chats?limit=3`, { token: tenant.apiKey })).body.nextCursor;
  });
  afterAll(async () => {
    await app.close();
  });

  const anyText = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme-composite' }));
  const limit = fc.oneof(fc.integer().map(String), fc.bigInt().map(String), anyText, fc.constantFrom('', '0', '-0', '+5', '1e3', '1.5', ' 5'));
  const cursor = fc.oneof(
    anyText,
    fc.base64String(),
    fc.constant(''),
    fc.nat({ max: 60 }).map((index) => {
      const bytes = Buffer.from(validCursor, 'base64url');
      bytes[index % bytes.length] ^= 0xff;
      return bytes.toString('base64url');
    }),
  );
  // Session segments are percent-encoded, except the `raw:` ones, sent as they are (broken escapes included).
  const session = fc.oneof(
    fc.constant('SELF'),
    anyText.filter((text) => text.length > 0),
    fc.stringMatching(/^[0-9A-Z]{26}$/),
    fc.stringMatching(/^[%0-9A-Fa-z]{1,12}$/).map((text) => `raw:${text}`),
  );

  it('answers 200 or a 4xx envelope', async () => {
    await fc.assert(
      fc.asyncProperty(fc.option(limit), fc.option(cursor), session, async (limitValue, cursorValue, sessionValue) => {
        const query = new URLSearchParams();
        if (limitValue !== null) query.set('limit', limitValue);
        if (cursorValue !== null) query.set('cursor', cursorValue);
        const sessionSegment =
          sessionValue === 'SELF' ? tenant.sessionId : sessionValue.startsWith('raw:') ? sessionValue.slice(4) : encodeURIComponent(sessionValue);
        const response = await app.request(`/api/v1/sessions/${sessionSegment}/chats?${query}`, { token: tenant.apiKey });
        if (response.status === 200) {
          expect(Array.isArray(response.body.data)).toBe(true);
          expect(response.body.data.length).toBeGreaterThanOrEqual(0);
          expect(response.body.data.length).toBeLessThanOrEqual(200);
          expect(response.body.nextCursor === null || typeof response.body.nextCursor === 'string').toBe(true);
        } else {
          expect(response.status).toBeGreaterThanOrEqual(400);
          expect(response.status).toBeLessThan(500);
          expect(response.body).toEqual({ error: { code: expect.any(String), message: expect.any(String), details: expect.any(Object) } });
        }
      }),
      { numRuns: 300 },
    );
  });
});
