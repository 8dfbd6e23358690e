import fc from 'fast-check';
import { anyCursor, anyLimit, anySegment, expectPageOrClientError, segmentValue } from '../support/page-arbitraries';
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
    await app.insertChats(
      tenant.sessionId,
      Array.from({ length: 30 }, (_, i) => ({ lastMessageAt: i % 4 ? i * 1000 : null })),
    );
    validCursor = (await app.request(`/api/v1/sessions/${tenant.sessionId}/chats?limit=3`, { token: tenant.apiKey })).body.nextCursor;
  });
  afterAll(async () => {
    await app.close();
  });

  const cursor = anyCursor(() => validCursor);

  it('answers 200 or a 4xx envelope', async () => {
    await fc.assert(
      fc.asyncProperty(fc.option(anyLimit), fc.option(cursor), anySegment(), async (limitValue, cursorValue, sessionValue) => {
        const query = new URLSearchParams();
        if (limitValue !== null) query.set('limit', limitValue);
        if (cursorValue !== null) query.set('cursor', cursorValue);
        const session = segmentValue(sessionValue, () => tenant.sessionId);
        const response = await app.request(`/api/v1/sessions/${session}/chats?${query.toString()}`, { token: tenant.apiKey });
        expectPageOrClientError(response);
        if (response.status === 200) {
          expect(Array.isArray(response.body.data)).toBe(true);
          expect(response.body.data.length).toBeLessThanOrEqual(200);
          expect(response.body.nextCursor === null || typeof response.body.nextCursor === 'string').toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
