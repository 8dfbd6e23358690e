import fc from 'fast-check';
import { BaileysPhone } from '../support/baileys-phone';
import { anyCursor, anyLimit, anySegment, expectPageOrClientError, segmentValue } from '../support/page-arbitraries';
import { listAllChats, syncSink } from '../support/sync-helpers';
import { TestApp, Tenant } from '../support/test-app';

/**
 * Whatever is thrown at the messages endpoints (any limit, any cursor, any session, chat or message
 * segment), the answer is a 200 or a 4xx envelope: never a 5xx, never a body of another shape.
 */
describe('Messages under random input', () => {
  let app: TestApp;
  let tenant: Tenant;
  let chatId: number;
  let messageId: number;
  let validCursor: string;

  beforeAll(async () => {
    app = await TestApp.start();
    tenant = await app.createTenant(['read']);
    const phone = await BaileysPhone.create(syncSink(app), tenant.sessionId);
    const jid = '15550001234@s.whatsapp.net';
    await phone.historySync({
      conversations: [
        { id: jid, conversationTimestamp: 1_719_000_100, messages: Array.from({ length: 30 }, (_, i) => ({ ts: 1_719_000_100 - i, text: `m${i}` })) },
      ],
    });
    chatId = (await listAllChats(app, tenant))[0].id;
    const first = await app.request(`/api/v1/sessions/${tenant.sessionId}/chats/${chatId}/messages?limit=3`, { token: tenant.apiKey });
    validCursor = first.body.nextCursor;
    messageId = first.body.data[0].id;
  });
  afterAll(async () => {
    await app.close();
  });

  const cursor = anyCursor(() => validCursor);
  const segment = anySegment(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String));

  it('List messages answers 200 pages or a 4xx envelope', async () => {
    await fc.assert(
      fc.asyncProperty(fc.option(anyLimit), fc.option(cursor), segment, segment, async (limitValue, cursorValue, sessionValue, chatValue) => {
        const query = new URLSearchParams();
        if (limitValue !== null) query.set('limit', limitValue);
        if (cursorValue !== null) query.set('cursor', cursorValue);
        const session = segmentValue(sessionValue, () => tenant.sessionId);
        const chat = segmentValue(chatValue, () => String(chatId));
        const response = await app.request(`/api/v1/sessions/${session}/chats/${chat}/messages?${query.toString()}`, { token: tenant.apiKey });
        expectPageOrClientError(response);
        if (response.status === 200) {
          expect(response.body.data.length).toBeLessThanOrEqual(200);
          expect(response.body.nextCursor === null || typeof response.body.nextCursor === 'string').toBe(true);
        }
      }),
      { numRuns: 250 },
    );
  });

  it('Get message and its media answer 200 or a 4xx envelope', async () => {
    await fc.assert(
      fc.asyncProperty(segment, segment, fc.boolean(), async (sessionValue, messageValue, media) => {
        const session = segmentValue(sessionValue, () => tenant.sessionId);
        const message = segmentValue(messageValue, () => String(messageId));
        const response = await app.request(`/api/v1/sessions/${session}/messages/${message}${media ? '/media' : ''}`, { token: tenant.apiKey });
        expectPageOrClientError(response);
      }),
      { numRuns: 150 },
    );
  });
});
