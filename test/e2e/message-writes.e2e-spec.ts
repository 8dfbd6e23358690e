import type { Capability } from '../../src/common/capabilities';
import type { FakeBaileysSocket } from '../support/fake-baileys-socket';
import { SeamGateway } from '../support/seam-gateway';
import { TestApp, Tenant } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const ALL: Capability[] = ['read', 'send', 'manage', 'admin'];
const BOB = '+14155550102';
const BOB_JID = '14155550102@s.whatsapp.net';

/**
 * Reactions, edits, deletes for everyone and mark-read over HTTP and PostgreSQL, the WhatsApp side
 * at the engine seam (the socket records what Baileys was asked to send; Baileys' own emitter
 * carries what WhatsApp says). Each goes through the session's outbox and changes the stored copy
 * once sent.
 */
describe('Message writes: reactions, edit, delete for everyone, mark read', () => {
  let gateway: SeamGateway;
  let app: TestApp;

  beforeAll(async () => {
    gateway = await SeamGateway.start({ SESSION_CAPACITY: '20', SEND_RATE_PER_MINUTE: '6000', SEND_BURST: '100', SEND_JITTER_MS: '0', SEND_POLL_MS: '50' });
    app = gateway.app;
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const call = (tenant: Tenant, method: string, path: string, body?: unknown, token = tenant.apiKey) =>
    app.request(`/api/v1/sessions/${tenant.sessionId}${path}`, {
      token,
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
  const getMessage = async (tenant: Tenant, id: number) => (await call(tenant, 'GET', `/messages/${id}`)).body;

  const connected = () => gateway.connected();

  /** A text sent and acknowledged by WhatsApp. */
  async function sentText(tenant: Tenant, socket: FakeBaileysSocket, text: string): Promise<any> {
    const accepted = await call(tenant, 'POST', '/messages', { to: BOB, text });
    expect(accepted.status).toBe(202);
    await waitFor(async () => (await getMessage(tenant, accepted.body.id)).status === 'sent' || undefined, 30_000);
    expect(socket.sent.some((sent) => sent.options.messageId === accepted.body.key.id)).toBe(true);
    return accepted.body;
  }

  it('reacts and removes the reaction (Baileys react), the stored reactions follow', async () => {
    const { tenant, socket } = await connected();
    const message = await sentText(tenant, socket, 'react to me');
    const reacted = await call(tenant, 'POST', `/messages/${message.id}/reactions`, { emoji: '👍' });
    expect(reacted.status).toBe(202);
    expect(reacted.body).toMatchObject({ action: 'reaction', chatId: message.chatId, messageId: message.id, queue: { position: expect.any(Number) } });
    await waitFor(async () => (await getMessage(tenant, message.id)).reactions.length === 1 || undefined, 30_000);
    const sent = socket.sent.find((entry) => entry.content.react);
    expect(sent).toMatchObject({ jid: BOB_JID, content: { react: { text: '👍', key: { remoteJid: BOB_JID, id: message.key.id, fromMe: true } } } });
    expect(sent!.options.messageId).toMatch(/^3EB0[0-9A-F]{18}$/);
    expect((await getMessage(tenant, message.id)).reactions).toEqual([{ senderJid: null, fromMe: true, emoji: '👍', at: expect.any(Number) }]);

    expect((await call(tenant, 'POST', `/messages/${message.id}/reactions`, { emoji: '' })).status).toBe(202);
    await waitFor(async () => (await getMessage(tenant, message.id)).reactions.length === 0 || undefined, 30_000);
    expect(socket.sent.filter((entry) => entry.content.react).map((entry) => entry.content.react.text)).toEqual(['👍', '']);
  }, 60_000);

  it('edits an own text message within 15 minutes (Baileys edit); refuses others with 409 and a reason', async () => {
    const { tenant, socket } = await connected();
    const message = await sentText(tenant, socket, 'See you at 8?');
    const edited = await call(tenant, 'PATCH', `/messages/${message.id}`, { text: 'See you at 9?' });
    expect([edited.status, edited.body.action]).toEqual([202, 'edit']);
    await waitFor(async () => (await getMessage(tenant, message.id)).text === 'See you at 9?' || undefined, 30_000);
    expect((await getMessage(tenant, message.id)).editedAt).toEqual(expect.any(Number));
    expect(socket.sent.find((entry) => entry.content.edit)!.content).toEqual({
      text: 'See you at 9?',
      edit: { remoteJid: BOB_JID, id: message.key.id, fromMe: true },
    });

    const location = await call(tenant, 'POST', '/messages', { to: BOB, location: { latitude: 1, longitude: 2 } });
    await waitFor(async () => (await getMessage(tenant, location.body.id)).status === 'sent' || undefined, 30_000);
    const notText = await call(tenant, 'PATCH', `/messages/${location.body.id}`, { text: 'x' });
    expect([notText.status, notText.body.error.details.reason]).toEqual([409, 'not_text_message']);

    await app.dataSource.query(`UPDATE messages SET ts = ts - 16 * 60 * 1000 WHERE id = $1`, [message.id]);
    const late = await call(tenant, 'PATCH', `/messages/${message.id}`, { text: 'too late' });
    expect([late.status, late.body.error.code, late.body.error.details.reason]).toEqual([409, 'conflict', 'edit_window_passed']);

    socket.autoAck = false;
    const pending = await call(tenant, 'POST', '/messages', { to: BOB, text: 'not acked yet' });
    const unsent = await call(tenant, 'PATCH', `/messages/${pending.body.id}`, { text: 'x' });
    expect([unsent.status, unsent.body.error.details.reason]).toEqual([409, 'not_sent']);
    expect((await call(tenant, 'PATCH', `/messages/${message.id}`, { text: '' })).status).toBe(400);
  }, 60_000);

  it('deletes an own message for everyone (Baileys delete): deletedAt, no text; forEveryone is required', async () => {
    const { tenant, socket } = await connected();
    const message = await sentText(tenant, socket, 'oops');
    const bare = await call(tenant, 'DELETE', `/messages/${message.id}`);
    expect([bare.status, bare.body.error.code]).toEqual([400, 'invalid_argument']);
    const deleted = await call(tenant, 'DELETE', `/messages/${message.id}?forEveryone=true`);
    expect([deleted.status, deleted.body.action]).toEqual([202, 'delete']);
    await waitFor(async () => (await getMessage(tenant, message.id)).deletedAt !== null || undefined, 30_000);
    expect(await getMessage(tenant, message.id)).toMatchObject({ text: null, deletedAt: expect.any(Number) });
    expect(socket.sent.find((entry) => entry.content.delete)!.content).toEqual({ delete: { remoteJid: BOB_JID, id: message.key.id, fromMe: true } });
    const again = await call(tenant, 'DELETE', `/messages/${message.id}?forEveryone=true`);
    expect([again.status, again.body.error.details.reason]).toEqual([409, 'message_deleted']);
  }, 60_000);

  it("marks a chat read: read receipts for its unread incoming messages (Baileys readMessages), unreadCount 0; an incoming message can't be edited", async () => {
    const { tenant, socket } = await connected();
    const now = Math.floor(Date.now() / 1000);
    socket.emit('messages.upsert', {
      type: 'notify',
      messages: [
        { key: { remoteJid: BOB_JID, fromMe: false, id: 'IN1' }, messageTimestamp: now - 2, message: { conversation: 'hi' }, pushName: 'Bob' },
        { key: { remoteJid: BOB_JID, fromMe: false, id: 'IN2' }, messageTimestamp: now - 1, message: { conversation: 'are you there?' }, pushName: 'Bob' },
      ],
    } as never);
    const chat = await waitFor(async () => {
      const chats = (await call(tenant, 'GET', '/chats')).body.data;
      return chats.find((entry: any) => entry.jid === BOB_JID && entry.unreadCount === 2);
    }, 30_000);
    const incoming = (await call(tenant, 'GET', `/chats/${chat.id}/messages`)).body.data.find((entry: any) => entry.key.id === 'IN1');
    const notOwn = await call(tenant, 'PATCH', `/messages/${incoming.id}`, { text: 'x' });
    expect([notOwn.status, notOwn.body.error.details.reason]).toEqual([409, 'not_own_message']);

    const read = await call(tenant, 'POST', `/chats/${chat.id}/read`);
    expect(read.status).toBe(202);
    expect(read.body).toMatchObject({ action: 'read', chatId: chat.id, messageId: null });
    await waitFor(() => socket.reads.length === 1 || undefined, 30_000);
    expect(socket.reads[0].map((key: any) => key.id).sort()).toEqual(['IN1', 'IN2']);
    expect(socket.reads[0][0]).toMatchObject({ remoteJid: BOB_JID, fromMe: false });
    await waitFor(async () => {
      const chats = (await call(tenant, 'GET', '/chats')).body.data;
      return chats.find((entry: any) => entry.id === chat.id).unreadCount === 0 || undefined;
    }, 30_000);
  }, 60_000);

  it('Idempotency-Key on every write route: the same key and body answer the first answer and write once, concurrent duplicates write once, another body is 409', async () => {
    const { tenant, socket } = await connected();
    const message = await sentText(tenant, socket, 'idempotent writes');
    const withKey = (method: string, path: string, key: string, body?: unknown) =>
      app.request(`/api/v1/sessions/${tenant.sessionId}${path}`, {
        token: tenant.apiKey,
        method,
        headers: { 'idempotency-key': key, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    const otherChat = (await call(tenant, 'POST', '/messages', { to: '+14155550103', text: 'another chat' })).body.chatId;
    const rowsOf = async (action: string) =>
      (await app.dataSource.query(`SELECT count(*)::int AS n FROM message_outbox WHERE session_id = $1 AND action = $2`, [tenant.sessionId, action]))[0].n;
    const routes: { action: string; method: string; path: string; body?: unknown; other: { path: string; body?: unknown } }[] = [
      {
        action: 'reaction',
        method: 'POST',
        path: `/messages/${message.id}/reactions`,
        body: { emoji: '👍' },
        other: { path: `/messages/${message.id}/reactions`, body: { emoji: '🎉' } },
      },
      {
        action: 'edit',
        method: 'PATCH',
        path: `/messages/${message.id}`,
        body: { text: 'edited once' },
        other: { path: `/messages/${message.id}`, body: { text: 'edited twice' } },
      },
      { action: 'read', method: 'POST', path: `/chats/${message.chatId}/read`, other: { path: `/chats/${otherChat}/read` } },
    ];
    for (const route of routes) {
      const key = `${route.action}-key`;
      const first = await withKey(route.method, route.path, key, route.body);
      expect([first.status, first.body.action]).toEqual([202, route.action]);
      // A retry, its body's keys in another order where it has any: the first answer byte for byte, nothing more queued.
      const again = await withKey(route.method, route.path, key, route.body);
      expect([again.status, again.text]).toEqual([202, first.text]);
      const racing = await Promise.all(Array.from({ length: 6 }, () => withKey(route.method, route.path, `${key}-race`, route.body)));
      expect(racing.map((response) => response.status)).toEqual(Array(6).fill(202));
      expect(new Set(racing.map((response) => response.text)).size).toBe(1);
      expect(await rowsOf(route.action)).toBe(2);
      // Another body (or target) with the key is refused; so is the key on another route.
      const other = await withKey(route.method, route.other.path, key, route.other.body);
      expect([other.status, other.body.error.code, other.body.error.details.reason]).toEqual([409, 'conflict', 'idempotency_key_reused']);
      const elsewhere = await withKey('DELETE', `/messages/${message.id}?forEveryone=true`, key);
      expect([elsewhere.status, elsewhere.body.error.details.reason]).toEqual([409, 'idempotency_key_reused']);
      expect(await rowsOf(route.action)).toBe(2);
    }
    await waitFor(async () => (await getMessage(tenant, message.id)).text === 'edited once' || undefined, 30_000);

    // A delete retried after it took effect answers its first answer (not message_deleted), once.
    const deleted = await withKey('DELETE', `/messages/${message.id}?forEveryone=true`, 'delete-key');
    expect([deleted.status, deleted.body.action]).toEqual([202, 'delete']);
    await waitFor(async () => (await getMessage(tenant, message.id)).deletedAt !== null || undefined, 30_000);
    const retried = await Promise.all(Array.from({ length: 4 }, () => withKey('DELETE', `/messages/${message.id}?forEveryone=true`, 'delete-key')));
    expect(retried.map((response) => [response.status, response.text])).toEqual(Array(4).fill([202, deleted.text]));
    expect(await rowsOf('delete')).toBe(1);
    expect(socket.sent.filter((entry) => entry.content.delete)).toHaveLength(1);
    const bad = await withKey('POST', `/messages/${message.id}/reactions`, 'x'.repeat(256), { emoji: '👍' });
    expect([bad.status, bad.body.error.code, bad.body.error.details.parameter]).toEqual([400, 'invalid_argument', 'Idempotency-Key']);
  }, 90_000);

  it("a write's outcome in Get write: pending until WhatsApp's ack with the stored copy unchanged, then sent and applied; an error ack is failed with the stored copy unchanged; an expired write is failed", async () => {
    const { tenant, socket } = await connected();
    const message = await sentText(tenant, socket, 'acked writes');
    const getWrite = async (id: number) => (await call(tenant, 'GET', `/writes/${id}`)).body;
    socket.autoAck = false;

    const reaction = await call(tenant, 'POST', `/messages/${message.id}/reactions`, { emoji: '👍' });
    expect(reaction.body).toMatchObject({
      id: expect.any(Number),
      action: 'reaction',
      status: 'pending',
      failureReason: null,
      queue: { position: expect.any(Number) },
    });
    // Handed to WhatsApp (out of the queue), no ack yet: still pending, the stored message unchanged.
    const handed = await waitFor(async () => ((await getWrite(reaction.body.id)).queue === null ? getWrite(reaction.body.id) : undefined), 30_000);
    expect(handed).toEqual({ ...reaction.body, queue: null });
    expect((await getMessage(tenant, message.id)).reactions).toEqual([]);
    const protocolId = socket.sent.find((entry) => entry.content.react)!.options.messageId;
    socket.serverAck(protocolId);
    await waitFor(async () => (await getWrite(reaction.body.id)).status === 'sent' || undefined, 30_000);
    // Sent means applied: the stored copy took the change before the write showed sent.
    expect((await getMessage(tenant, message.id)).reactions).toEqual([{ senderJid: null, fromMe: true, emoji: '👍', at: expect.any(Number) }]);

    // WhatsApp refuses an edit: failed, with a reason; the text stays.
    const edit = await call(tenant, 'PATCH', `/messages/${message.id}`, { text: 'never shown' });
    await waitFor(() => socket.sent.some((entry) => entry.content.edit) || undefined, 30_000);
    await waitFor(async () => (await getWrite(edit.body.id)).queue === null || undefined, 30_000);
    socket.serverAck(socket.sent.find((entry) => entry.content.edit)!.options.messageId, '479');
    const refused = await waitFor(async () => ((await getWrite(edit.body.id)).status === 'failed' ? getWrite(edit.body.id) : undefined), 30_000);
    expect(refused).toMatchObject({ action: 'edit', status: 'failed', failureReason: expect.stringContaining('WhatsApp refused'), queue: null });
    expect(await getMessage(tenant, message.id)).toMatchObject({ text: 'acked writes', editedAt: null });

    // Read receipts: the chat stays unread until WhatsApp acks the receipt.
    socket.emit('messages.upsert', {
      type: 'notify',
      messages: [
        { key: { remoteJid: BOB_JID, fromMe: false, id: 'ACKIN1' }, messageTimestamp: Math.floor(Date.now() / 1000), message: { conversation: 'hi' } },
      ],
    } as never);
    const unread = async () => ((await call(tenant, 'GET', '/chats')).body.data as any[]).find((chat) => chat.id === message.chatId).unreadCount;
    await waitFor(async () => (await unread()) === 1 || undefined, 30_000);
    const read = await call(tenant, 'POST', `/chats/${message.chatId}/read`);
    await waitFor(() => socket.reads.length === 1 || undefined, 30_000);
    await waitFor(async () => (await getWrite(read.body.id)).queue === null || undefined, 30_000);
    expect([(await getWrite(read.body.id)).status, await unread()]).toEqual(['pending', 1]);
    socket.receiptAck('ACKIN1');
    await waitFor(async () => (await getWrite(read.body.id)).status === 'sent' || undefined, 30_000);
    expect(await unread()).toBe(0);

    // Not connected until it expired: failed, and nothing was sent.
    expect((await call(tenant, 'POST', '/stop')).status).toBeLessThan(300);
    await waitFor(
      async () => (await app.request(`/api/v1/sessions/${tenant.sessionId}`, { token: tenant.apiKey })).body.status === 'stopped' || undefined,
      30_000,
    );
    const late = await call(tenant, 'POST', `/messages/${message.id}/reactions`, { emoji: '🎉' });
    await app.dataSource.query(`UPDATE message_outbox SET expires_at = now() WHERE id = $1`, [late.body.id]);
    const expired = await waitFor(async () => ((await getWrite(late.body.id)).status === 'failed' ? getWrite(late.body.id) : undefined), 30_000);
    expect(expired).toMatchObject({ status: 'failed', failureReason: expect.stringContaining('expired'), queue: null });
    expect(socket.sent.filter((entry) => entry.content.react)).toHaveLength(1);

    // One 404 for an unknown write, a message's outbox row, a malformed id and another org's write.
    const [{ id: sendRow }] = await app.dataSource.query(`SELECT id::int FROM message_outbox WHERE message_id = $1 AND action = 'send'`, [message.id]);
    const unknown = await call(tenant, 'GET', '/writes/99999999');
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'not_found']);
    for (const path of [`/writes/${sendRow}`, '/writes/abc', '/writes/99999999999999999999']) expect((await call(tenant, 'GET', path)).text).toBe(unknown.text);
    const other = await app.createTenant(ALL);
    const foreign = await app.request(`/api/v1/sessions/${tenant.sessionId}/writes/${reaction.body.id}`, { token: other.apiKey });
    expect([foreign.status, foreign.text]).toEqual([404, unknown.text]);
  }, 90_000);

  it("a read caller gets 403 before any lookup; another org's message or chat is the same 404 as an unknown one", async () => {
    const { tenant, socket } = await connected();
    const message = await sentText(tenant, socket, 'mine');
    const reader = await app.apiKeys.create(tenant.orgId, ['read'], 'reader');
    const routes: [string, string, unknown?][] = [
      ['POST', `/messages/${message.id}/reactions`, { emoji: '👍' }],
      ['PATCH', `/messages/${message.id}`, { text: 'x' }],
      ['DELETE', `/messages/${message.id}?forEveryone=true`],
      ['POST', `/chats/${message.chatId}/read`],
      ['POST', `/messages/99999999/reactions`, { emoji: '👍' }],
      ['POST', `/chats/99999999/read`],
    ];
    for (const [method, path, body] of routes) {
      const forbidden = await call(tenant, method, path, body, reader.key);
      expect([forbidden.status, forbidden.body.error.code]).toEqual([403, 'forbidden']);
    }

    const other = await app.createTenant(ALL);
    const asOther = (method: string, path: string, body?: unknown, sessionId = tenant.sessionId) =>
      app.request(`/api/v1/sessions/${sessionId}${path}`, {
        token: other.apiKey,
        method,
        ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
      });
    const unknownMessage = await asOther('POST', `/messages/99999999/reactions`, { emoji: '👍' }, other.sessionId);
    expect(unknownMessage.status).toBe(404);
    for (const [method, path, body] of routes.slice(0, 3)) {
      const foreign = await asOther(method, path, body);
      expect([foreign.status, foreign.text]).toEqual([404, unknownMessage.text]);
    }
    const unknownChat = await asOther('POST', `/chats/99999999/read`, undefined, other.sessionId);
    const foreignChat = await asOther('POST', `/chats/${message.chatId}/read`);
    expect([foreignChat.status, foreignChat.text]).toEqual([404, unknownChat.text]);
    const rows = await app.dataSource.query(`SELECT action, count(*)::int AS n FROM message_outbox WHERE session_id = $1 GROUP BY action`, [tenant.sessionId]);
    expect(rows).toEqual([{ action: 'send', n: 1 }]);
  }, 60_000);
});
