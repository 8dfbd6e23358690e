import { MUTED_FOREVER } from '../../src/chats/chat-type';
import { SessionsService } from '../../src/sessions/sessions.service';
import { ERRORS_OF_EVERY_AUTHENTICATED_OPERATION, ERRORS_OF_EVERY_OPERATION } from '../../src/common/errors/api-error-responses.decorator';
import { ERROR_STATUS } from '../../src/common/errors/error-code';
import { openApiValidator } from '../support/openapi-validator';
import { HttpResult, TestApp, Tenant } from '../support/test-app';

const chatsPath = (sessionId: string, query = '') => `/api/v1/sessions/${sessionId}/chats${query}`;

describe('GET /api/v1/sessions/{session}/chats', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await TestApp.start();
  });
  afterAll(async () => {
    await app.close();
  });

  async function tenantWithChats(count: number): Promise<Tenant> {
    const tenant = await app.createTenant(['read']);
    await app.insertChats(
      tenant.sessionId,
      Array.from({ length: count }, (_, i) => ({
        pinnedAt: i % 40 === 0 ? 1_700_000_000_000 + i : null,
        // Some chats have no message at all, several share the same time: the order must still be total.
        lastMessageAt: i % 9 === 0 ? null : 1_700_000_000_000 + (i % 17) * 60_000,
      })),
    );
    return tenant;
  }

  async function collectAll(tenant: Tenant, limit: number): Promise<{ ids: number[]; pages: number; lastPageSize: number }> {
    const ids: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    let lastPageSize: number;
    do {
      const query: string = `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const response: HttpResult = await app.request(chatsPath(tenant.sessionId, query), { token: tenant.apiKey });
      expect(response.status).toBe(200);
      expect(response.body.data.length).toBeLessThanOrEqual(limit);
      ids.push(...response.body.data.map((chat: { id: number }) => chat.id));
      cursor = response.body.nextCursor;
      lastPageSize = response.body.data.length;
      pages++;
    } while (cursor !== null && pages < 1000);
    return { ids, pages, lastPageSize };
  }

  describe('response shape and order', () => {
    it('returns every field of the contract with the documented types', async () => {
      const tenant = await app.createTenant();
      await app.insertChats(tenant.sessionId, [
        {
          jid: '6281234567890@s.whatsapp.net',
          type: 'dm',
          name: 'Alice',
          lastMessageAt: 1719662400000,
          mutedUntil: 1751198400000,
          unreadCount: 3,
        },
      ]);
      const response = await app.request(chatsPath(tenant.sessionId), { token: tenant.apiKey });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.body).toEqual({
        data: [
          {
            archived: false,
            id: expect.any(Number),
            jid: '6281234567890@s.whatsapp.net',
            lastMessageAt: 1719662400000,
            mutedUntil: 1751198400000,
            name: 'Alice',
            pinned: false,
            sessionId: tenant.sessionId,
            type: 'dm',
            unreadCount: 3,
          },
        ],
        nextCursor: null,
      });
    });

    it('orders pinned chats first (most recently pinned first), then by lastMessageAt descending with null last, then id descending', async () => {
      const tenant = await app.createTenant();
      const [oldPin, newPin, recent, older, never1, never2, tieA, tieB] = await app.insertChats(tenant.sessionId, [
        { name: 'old pin', pinnedAt: 1000, lastMessageAt: 5 },
        { name: 'new pin', pinnedAt: 2000, lastMessageAt: null },
        { name: 'recent', lastMessageAt: 900 },
        { name: 'older', lastMessageAt: 100 },
        { name: 'never 1', lastMessageAt: null },
        { name: 'never 2', lastMessageAt: null },
        { name: 'tie a', lastMessageAt: 500 },
        { name: 'tie b', lastMessageAt: 500 },
      ]);
      const response = await app.request(chatsPath(tenant.sessionId), { token: tenant.apiKey });
      const ids = response.body.data.map((chat: { id: number }) => chat.id);
      expect(ids).toEqual([newPin, oldPin, recent, tieB, tieA, older, never2, never1]);
      expect(response.body.data.map((chat: { pinned: boolean }) => chat.pinned)).toEqual([true, true, false, false, false, false, false, false]);
    });

    it('shows a chat marked unread with at least one unread message, and muted-forever as the documented far-future value', async () => {
      const tenant = await app.createTenant();
      await app.insertChats(tenant.sessionId, [
        { name: 'marked', markedUnread: true, unreadCount: 0, lastMessageAt: 3 },
        { name: 'marked with count', markedUnread: true, unreadCount: 4, lastMessageAt: 2 },
        { name: 'forever', mutedUntil: MUTED_FOREVER, lastMessageAt: 1 },
      ]);
      const { body } = await app.request(chatsPath(tenant.sessionId), { token: tenant.apiKey });
      expect(body.data.map((chat: { unreadCount: number }) => chat.unreadCount)).toEqual([1, 4, 0]);
      expect(body.data[2].mutedUntil).toBe(253402300799000);
    });

    it('serves the stored copy whatever the connection state of the session', async () => {
      const tenant = await app.createTenant();
      await app.insertChats(tenant.sessionId, [{ name: 'kept' }]);
      for (const status of ['stopped', 'connecting', 'qr_required', 'connected', 'logged_out', 'failed']) {
        await app.dataSource.query('UPDATE sessions SET status = $2 WHERE id = $1', [tenant.sessionId, status]);
        const response = await app.request(chatsPath(tenant.sessionId), { token: tenant.apiKey });
        expect({ status, code: response.status, count: response.body.data.length }).toEqual({ status, code: 200, count: 1 });
      }
    });

    it('returns an empty first page with a null cursor for a session with no chats', async () => {
      const tenant = await app.createTenant();
      const response = await app.request(chatsPath(tenant.sessionId), { token: tenant.apiKey });
      expect(response.body).toEqual({ data: [], nextCursor: null });
    });

    it('accepts the session id in lower case (ULIDs are case-insensitive)', async () => {
      const tenant = await tenantWithChats(2);
      const response = await app.request(chatsPath(tenant.sessionId.toLowerCase()), { token: tenant.apiKey });
      expect(response.status).toBe(200);
      expect(response.body.data[0].sessionId).toBe(tenant.sessionId);
    });
  });

  describe('limit', () => {
    let tenant: Tenant;
    beforeAll(async () => {
      tenant = await tenantWithChats(260);
    });

    it.each([
      ['missing', '', 50],
      ['empty', '?limit=', 50],
      ['0', '?limit=0', 50],
      ['-7', '?limit=-7', 1],
      ['1', '?limit=1', 1],
      ['7', '?limit=7', 7],
      ['200', '?limit=200', 200],
      ['201', '?limit=201', 200],
      ['500', '?limit=500', 200],
      ['a 30-digit number', '?limit=123456789012345678901234567890', 200],
      ['a huge negative number', '?limit=-123456789012345678901234567890', 1],
    ])('limit %s (%s) gives a page of %i', async (_label, query, expected) => {
      const response = await app.request(chatsPath(tenant.sessionId, query), { token: tenant.apiKey });
      expect(response.status).toBe(200);
      expect(response.body.data).toHaveLength(expected);
    });

    it.each([['abc'], ['1.5'], ['1e3'], ['0x10'], ['%20'], ['12abc']])('%s is 400 invalid_argument naming limit', async (value) => {
      const response = await app.request(chatsPath(tenant.sessionId, `?limit=${value}`), { token: tenant.apiKey });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        error: { code: 'invalid_argument', message: expect.any(String), details: { parameter: 'limit' } },
      });
    });

    it('a repeated limit is 400 invalid_argument', async () => {
      const response = await app.request(chatsPath(tenant.sessionId, '?limit=1&limit=2'), { token: tenant.apiKey });
      expect(response.status).toBe(400);
      expect(response.body.error.details).toEqual({ parameter: 'limit' });
    });
  });

  describe('cursor pagination', () => {
    const total = 333;
    let tenant: Tenant;
    let expectedOrder: number[];

    beforeAll(async () => {
      tenant = await tenantWithChats(total);
      const rows: { id: string }[] = await app.dataSource.query(
        `SELECT id FROM chats WHERE session_id = $1
         ORDER BY pinned_at DESC NULLS LAST, last_message_at DESC NULLS LAST, id DESC`,
        [tenant.sessionId],
      );
      expectedOrder = rows.map((row) => Number(row.id));
    });

    it.each([1, 7, 50, 200])('pages of %i visit every chat exactly once, in display order', async (limit) => {
      const { ids, pages } = await collectAll(tenant, limit);
      expect(ids).toEqual(expectedOrder);
      expect(new Set(ids).size).toBe(total);
      expect(pages).toBe(Math.ceil(total / limit));
    });

    it('gives a null nextCursor on an exactly full last page', async () => {
      const exact = await tenantWithChats(100);
      const first = await app.request(chatsPath(exact.sessionId, '?limit=50'), { token: exact.apiKey });
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = await app.request(chatsPath(exact.sessionId, `?limit=50&cursor=${first.body.nextCursor}`), { token: exact.apiKey });
      expect(second.body.data).toHaveLength(50);
      expect(second.body.nextCursor).toBeNull();
    });

    it('an empty cursor means the first page', async () => {
      const response = await app.request(chatsPath(tenant.sessionId, '?limit=3&cursor='), { token: tenant.apiKey });
      expect(response.body.data.map((chat: { id: number }) => chat.id)).toEqual(expectedOrder.slice(0, 3));
    });

    describe('a cursor this server did not issue for this session is 400 invalid_argument', () => {
      let valid: string;
      beforeAll(async () => {
        const response = await app.request(chatsPath(tenant.sessionId, '?limit=5'), { token: tenant.apiKey });
        valid = response.body.nextCursor;
      });

      const flipByte = (cursor: string, index: number) => {
        const bytes = Buffer.from(cursor, 'base64url');
        bytes[index] ^= 0x01;
        return bytes.toString('base64url');
      };

      it.each<[string, (cursor: string) => string]>([
        ['garbage', () => 'not-a-cursor'],
        ['random base64', () => Buffer.from('x'.repeat(41)).toString('base64url')],
        ['a flipped byte in the position', (cursor) => flipByte(cursor, 10)],
        ['a flipped byte in the signature', (cursor) => flipByte(cursor, 35)],
        ['truncated', (cursor) => cursor.slice(0, -3)],
        ['extended', (cursor) => `${cursor}AA`],
        ['with padding', (cursor) => `${cursor}=`],
        ['non-ASCII', () => 'ÿÿÿÿ'],
        ['very long', () => 'A'.repeat(5000)],
      ])('%s', async (_label, mutate) => {
        const response = await app.request(chatsPath(tenant.sessionId, `?cursor=${encodeURIComponent(mutate(valid))}`), {
          token: tenant.apiKey,
        });
        expect(response.status).toBe(400);
        expect(response.body).toEqual({
          error: { code: 'invalid_argument', message: expect.any(String), details: { parameter: 'cursor' } },
        });
      });

      it("another session's cursor, even of the same org", async () => {
        const sibling = await app.app.get(SessionsService).create(tenant.orgId, 'second number');
        await app.insertChats(sibling.id, [{}, {}]);
        const response = await app.request(chatsPath(sibling.id, `?cursor=${valid}`), { token: tenant.apiKey });
        expect(response.status).toBe(400);
        expect(response.body.error.code).toBe('invalid_argument');
      });

      it('a repeated cursor parameter', async () => {
        const response = await app.request(chatsPath(tenant.sessionId, `?cursor=${valid}&cursor=${valid}`), { token: tenant.apiKey });
        expect(response.status).toBe(400);
        expect(response.body.error.details).toEqual({ parameter: 'cursor' });
      });
    });
  });

  describe('ownership', () => {
    it("another org's session, an unknown session and a malformed id give byte-identical 404s", async () => {
      const mine = await app.createTenant();
      const theirs = await tenantWithChats(3);
      const responses = await Promise.all(
        [theirs.sessionId, '01J9ZX8K2QHV0M3T6R7P4N5W8Z', 'not-a-session', "1' OR '1'='1", '%2E%2E%2Fetc'].map((session) =>
          app.request(chatsPath(session), { token: mine.apiKey }),
        ),
      );
      for (const response of responses) {
        expect(response.status).toBe(404);
        expect(response.text).toBe(responses[0].text);
      }
      expect(responses[0].body).toEqual({ error: { code: 'not_found', message: 'session not found', details: {} } });
    });

    it('never returns chats of a session the caller does not own', async () => {
      const theirs = await tenantWithChats(5);
      const mine = await app.createTenant();
      const response = await app.request(chatsPath(theirs.sessionId), { token: mine.apiKey });
      expect(response.status).toBe(404);
      expect(response.text).not.toContain('whatsapp.net');
    });

    it("with a cursor, valid or not, another org's session is still the same 404, never a 400 or a page", async () => {
      const theirs = await tenantWithChats(5);
      const mine = await app.createTenant();
      const first = await app.request(chatsPath(theirs.sessionId, '?limit=2'), { token: theirs.apiKey });
      const expected = await app.request(chatsPath(theirs.sessionId), { token: mine.apiKey });
      for (const cursor of [first.body.nextCursor, 'garbage']) {
        const response = await app.request(chatsPath(theirs.sessionId, `?cursor=${encodeURIComponent(cursor)}`), { token: mine.apiKey });
        expect(response.status).toBe(404);
        expect(response.text).toBe(expected.text);
      }
    });
  });
  describe('credentials and capability', () => {
    it.each([
      ['no Authorization header', undefined],
      ['an unknown API key', 'wgk_01J9ZX8K2QHV0M3T6R7P4N5W8C_not-the-secret'],
      ['a malformed token', 'a.b.c'],
    ])('%s is 401 unauthenticated with WWW-Authenticate: Bearer', async (_label, token) => {
      const tenant = await tenantWithChats(1);
      const response = await app.request(chatsPath(tenant.sessionId), { token });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(response.body).toEqual({ error: { code: 'unauthenticated', message: 'missing or invalid credentials', details: {} } });
    });

    it('a key without read is 403 forbidden, also for a session it does not own', async () => {
      const writer = await app.createTenant(['send']);
      const theirs = await tenantWithChats(1);
      for (const sessionId of [writer.sessionId, theirs.sessionId]) {
        const response = await app.request(chatsPath(sessionId), { token: writer.apiKey });
        expect(response.status).toBe(403);
        expect(response.body).toEqual({ error: { code: 'forbidden', message: expect.any(String), details: { capability: 'read' } } });
      }
    });
  });

  // TestApp.request checks every response above against openapi.json; this makes sure each
  // response the document promises for List chats was actually produced and checked, so none is
  // fiction. The errors every operation can give (500, 503) are exercised by errors.e2e-spec.ts
  // and the database-outage tests, 429 (every authenticated operation) by rate-limit.e2e-spec.ts;
  // 400 (every operation, for a malformed body) is also List chats' own answer to a bad limit or cursor.
  it('produced, and matched to openapi.json, every response the document lists for listChats', () => {
    const validator = openApiValidator();
    const everyOperation = [...ERRORS_OF_EVERY_OPERATION, ...ERRORS_OF_EVERY_AUTHENTICATED_OPERATION].map((code) => String(ERROR_STATUS[code]));
    const own = validator.documentedStatuses('listChats').filter((status) => !everyOperation.includes(status));
    expect(own).toEqual(['200', '401', '403', '404']);
    expect(own.filter((status) => validator.seen.has(`listChats ${status}`))).toEqual(own);
    expect(validator.seen.has('listChats 400')).toBe(true);
  });
});
