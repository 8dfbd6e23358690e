import type { Capability } from '../../src/common/capabilities';
import { SeamGateway } from '../support/seam-gateway';
import { TestApp, Tenant } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const ALL: Capability[] = ['read', 'send', 'manage', 'admin'];
const BOB = '+14155550102';
const BOB_JID = '14155550102@s.whatsapp.net';

/**
 * Send message over HTTP and PostgreSQL, the WhatsApp side at the engine seam (a socket that
 * records what the gateway sends, Baileys' event emitter for what WhatsApp answers). Pacing: a
 * burst of 2, then 1 a minute, no jitter: a third message in a row waits a minute, so counts
 * tell the pacing without timing anything.
 */
describe('Send message', () => {
  let gateway: SeamGateway;
  let app: TestApp;

  beforeAll(async () => {
    gateway = await SeamGateway.start({
      SESSION_CAPACITY: '50',
      SEND_RATE_PER_MINUTE: '1',
      SEND_BURST: '2',
      SEND_JITTER_MS: '0',
      SEND_EXPIRY_MS: '3000',
      SEND_POLL_MS: '50',
    });
    app = gateway.app;
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const post = (tenant: Tenant, body: unknown, headers: Record<string, string> = {}, token = tenant.apiKey) =>
    app.request(`/api/v1/sessions/${tenant.sessionId}/messages`, {
      token,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const getMessage = async (tenant: Tenant, id: number) =>
    (await app.request(`/api/v1/sessions/${tenant.sessionId}/messages/${id}`, { token: tenant.apiKey })).body;

  const connected = () => gateway.connected();

  it('accepts a text (202, pending, in List messages at once), sends it under its fixed WhatsApp id, and its status follows WhatsApp', async () => {
    const { tenant, socket } = await connected();
    socket.autoAck = false;
    const accepted = await post(tenant, { to: BOB, text: 'hello @14155550103', mentions: ['+14155550103'] });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({
      status: 'pending',
      type: 'text',
      text: 'hello @14155550103',
      key: { remoteJid: BOB_JID, fromMe: true },
      queue: { position: 0 },
    });
    const waId = accepted.body.key.id as string;
    expect(waId).toMatch(/^3EB0[0-9A-F]{18}$/);
    const page = await app.request(`/api/v1/sessions/${tenant.sessionId}/chats/${accepted.body.chatId}/messages`, { token: tenant.apiKey });
    expect(page.body.data.map((message: any) => message.id)).toContain(accepted.body.id);

    await waitFor(() => socket.sent.length === 1 || undefined, 30_000);
    expect(socket.sent[0]).toEqual({
      jid: BOB_JID,
      content: { text: 'hello @14155550103', mentions: ['14155550103@s.whatsapp.net'], linkPreview: null },
      options: { messageId: waId },
    });
    // Handed to WhatsApp (the outbox row done), but `sent` waits for WhatsApp's server ack.
    await waitFor(async () => {
      const rows = await app.dataSource.query(`SELECT state FROM message_outbox WHERE message_id = $1`, [accepted.body.id]);
      return rows[0].state === 'sent' || undefined;
    }, 30_000);
    expect(await getMessage(tenant, accepted.body.id)).toMatchObject({ status: 'pending', queue: null, failureReason: null });
    socket.serverAck(waId);
    await waitFor(async () => (await getMessage(tenant, accepted.body.id)).status === 'sent', 30_000);

    socket.emit('messages.update', [{ key: { remoteJid: BOB_JID, id: waId, fromMe: true }, update: { status: 3 } }] as never);
    await waitFor(async () => (await getMessage(tenant, accepted.body.id)).status === 'delivered', 30_000);
    socket.emit('messages.update', [{ key: { remoteJid: BOB_JID, id: waId, fromMe: true }, update: { status: 4 } }] as never);
    await waitFor(async () => (await getMessage(tenant, accepted.body.id)).status === 'read', 30_000);
    // Statuses only move forward: a late delivery receipt, a late ack, an error ack change nothing.
    socket.emit('messages.update', [{ key: { remoteJid: BOB_JID, id: waId, fromMe: true }, update: { status: 3 } }] as never);
    socket.emit('messages.update', [{ key: { remoteJid: BOB_JID, id: waId, fromMe: true }, update: { status: 0 } }] as never);
    socket.emit('messages.update', [{ key: { remoteJid: BOB_JID, id: waId, fromMe: true }, update: { status: 5 } }] as never);
    await waitFor(async () => (await getMessage(tenant, accepted.body.id)).status === 'played', 30_000);
  }, 60_000);

  it('an error ack from WhatsApp fails the message, with a reason on Get message and in List messages', async () => {
    const { tenant, socket } = await connected();
    socket.autoAck = false;
    const accepted = await post(tenant, { to: BOB, text: 'to nobody' });
    await waitFor(() => socket.sent.length === 1 || undefined, 30_000);
    socket.serverAck(accepted.body.key.id, '463');
    await waitFor(async () => (await getMessage(tenant, accepted.body.id)).status === 'failed' || undefined, 30_000);
    const failed = await getMessage(tenant, accepted.body.id);
    expect(failed.failureReason).toMatch(/WhatsApp refused the message/);
    expect(failed.queue).toBeNull();
    const page = await app.request(`/api/v1/sessions/${tenant.sessionId}/chats/${accepted.body.chatId}/messages`, { token: tenant.apiKey });
    expect(page.body.data.find((message: any) => message.id === accepted.body.id)).toMatchObject({ status: 'failed', failureReason: failed.failureReason });
  }, 60_000);

  it('replies, with a location and a contact card, to a chat named by its id', async () => {
    const { tenant, socket } = await connected();
    const first = await post(tenant, { to: BOB_JID, location: { latitude: -6.175392, longitude: 106.827153, name: 'Monas' } });
    expect(first.status).toBe(202);
    const reply = await post(tenant, { to: String(first.body.chatId), contact: { name: 'Alice; A', phone: '+6281234567891' }, replyTo: String(first.body.id) });
    expect(reply.status).toBe(202);
    expect(reply.body).toMatchObject({ type: 'contact', quotedMessageId: first.body.key.id, queue: { position: expect.any(Number) } });
    await waitFor(() => socket.sent.length === 2 || undefined, 30_000);
    expect(socket.sent[0].content).toEqual({ location: { degreesLatitude: -6.175392, degreesLongitude: 106.827153, name: 'Monas' } });
    expect(socket.sent[1].content.contacts.contacts[0].vcard).toContain('FN:Alice\\; A\nTEL;type=CELL;type=VOICE;waid=6281234567891:+6281234567891');
    expect(socket.sent[1].options.quoted.key).toEqual({ remoteJid: BOB_JID, id: first.body.key.id, fromMe: true });
  }, 60_000);

  it('Idempotency-Key: the same key and body answer the first answer and send once; concurrent duplicates store one message; another body is 409', async () => {
    const { tenant, socket } = await connected();
    const once = await post(tenant, { to: BOB, text: 'once' }, { 'idempotency-key': 'key-1' });
    const again = await post(tenant, { text: 'once', to: BOB }, { 'idempotency-key': 'key-1' });
    expect(once.status).toBe(202);
    expect(again.status).toBe(202);
    // The first answer byte for byte (jsonb would have reordered its keys).
    expect(again.text).toBe(once.text);

    const racing = await Promise.all(Array.from({ length: 8 }, () => post(tenant, { to: BOB, text: 'race' }, { 'idempotency-key': 'key-2' })));
    expect(racing.map((response) => response.status)).toEqual(Array(8).fill(202));
    expect(new Set(racing.map((response) => response.body.id)).size).toBe(1);

    const other = await post(tenant, { to: BOB, text: 'something else' }, { 'idempotency-key': 'key-1' });
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: 'conflict', details: { reason: 'idempotency_key_reused' } });

    // Two messages accepted, two sent (the burst), whatever the retries.
    await waitFor(() => socket.sent.length === 2 || undefined, 30_000);
    expect(socket.sent.map((sent) => sent.content.text).sort()).toEqual(['once', 'race']);
    const rows = await app.dataSource.query(`SELECT count(*)::int AS n FROM message_outbox WHERE session_id = $1`, [tenant.sessionId]);
    expect(rows[0].n).toBe(2);
  }, 60_000);

  it('Idempotency-Key: a key older than 24 hours is free again (another body is accepted as a new message; the first stays, its key released)', async () => {
    const { tenant } = await connected();
    const first = await post(tenant, { to: BOB, text: 'yesterday' }, { 'idempotency-key': 'key-old' });
    expect(first.status).toBe(202);
    await app.dataSource.query(`UPDATE message_outbox SET created_at = now() - interval '25 hours' WHERE session_id = $1`, [tenant.sessionId]);

    const today = await post(tenant, { to: BOB, text: 'today' }, { 'idempotency-key': 'key-old' });
    expect(today.status).toBe(202);
    expect(today.body.id).not.toBe(first.body.id);
    expect((await post(tenant, { to: BOB, text: 'today' }, { 'idempotency-key': 'key-old' })).text).toBe(today.text);
    const rows = await app.dataSource.query(
      `SELECT message_id::text AS message, idempotency_key AS key FROM message_outbox WHERE session_id = $1 ORDER BY id`,
      [tenant.sessionId],
    );
    expect(rows).toEqual([
      { message: String(first.body.id), key: null },
      { message: String(today.body.id), key: 'key-old' },
    ]);
  }, 60_000);

  it('paces: a burst of 2 goes at once, the third waits its turn (queue position and expected send time on it)', async () => {
    const { tenant, socket } = await connected();
    const accepted: any[] = [];
    for (const text of ['one', 'two', 'three']) accepted.push((await post(tenant, { to: BOB, text })).body);
    // However many were sent between the accepts, the third is a minute out (the burst spent).
    expect(accepted[2].queue.position).toBeLessThanOrEqual(2);
    expect(accepted[2].queue.expectedSendAt - accepted[2].timestamp).toBeGreaterThanOrEqual(59_000);
    await waitFor(async () => (await getMessage(tenant, accepted[1].id)).status === 'sent' || undefined, 30_000);
    // Two sends and their marking done: the third stays pending for its minute.
    expect(socket.sent.map((sent) => sent.content.text)).toEqual(['one', 'two']);
    const third = await getMessage(tenant, accepted[2].id);
    expect(third).toMatchObject({ status: 'pending', failureReason: null, queue: { position: 0 } });
    expect(third.queue.expectedSendAt - accepted[2].timestamp).toBeGreaterThanOrEqual(59_000);
    const page = await app.request(`/api/v1/sessions/${tenant.sessionId}/chats/${accepted[2].chatId}/messages`, { token: tenant.apiKey });
    expect(page.body.data.find((message: any) => message.id === accepted[2].id).queue).toEqual(third.queue);
    expect(page.body.data.find((message: any) => message.id === accepted[0].id)).toMatchObject({ status: 'sent', queue: null });
  }, 60_000);

  it('a session not connected keeps the message until SEND_EXPIRY_MS, then it is failed with a reason', async () => {
    const tenant = await app.createTenant(ALL);
    const accepted = await post(tenant, { to: BOB, text: 'nobody is connected' });
    expect(accepted.status).toBe(202);
    await waitFor(async () => (await getMessage(tenant, accepted.body.id)).status === 'failed' || undefined, 30_000);
    expect((await getMessage(tenant, accepted.body.id)).failureReason).toMatch(/not connected .* before the message expired/);
  }, 60_000);

  it("refuses bad input with 400, a read caller with 403, another org's session with the same 404", async () => {
    const tenant = await app.createTenant(ALL);
    const bad: unknown[] = [
      {},
      { to: BOB },
      { to: BOB, text: 'a', location: { latitude: 1, longitude: 2 } },
      { to: 'bob', text: 'a' },
      { to: BOB, text: '' },
      { to: BOB, text: 'a', extra: 1 },
      { to: BOB, location: { latitude: 91, longitude: 0 } },
      { to: BOB, contact: { name: 'x', phone: '123' } },
      { to: BOB, text: 'a', replyTo: '99999999999999999999' },
      { to: BOB, text: 'a', replyTo: '12345' },
      { to: '99999999999999999', text: 'a' },
      { to: '120363041234567891@g.us', text: 'a' },
      { to: BOB, location: { latitude: 1, longitude: 2 }, mentions: ['+14155550103'] },
    ];
    for (const body of bad) {
      const response = await post(tenant, body);
      expect([response.status, response.body.error.code]).toEqual([400, 'invalid_argument']);
    }
    expect((await post(tenant, { to: BOB, text: 'a' }, { 'idempotency-key': 'x'.repeat(256) })).status).toBe(400);

    const reader = await app.apiKeys.create(tenant.orgId, ['read'], 'reader');
    const forbidden = await post(tenant, { to: BOB, text: 'a' }, {}, reader.key);
    expect([forbidden.status, forbidden.body.error.code]).toEqual([403, 'forbidden']);

    const other = await app.createTenant(ALL);
    const toSession = (sessionId: string, headers: Record<string, string> = {}) =>
      app.request(`/api/v1/sessions/${sessionId}/messages`, {
        token: tenant.apiKey,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ to: BOB, text: 'a' }),
      });
    const foreign = await toSession(other.sessionId);
    const unknown = await toSession('01J9ZX8K2QHV0M3T6R7P4N5W8C');
    expect(foreign.status).toBe(404);
    expect(foreign.text).toBe(unknown.text);
    // With an Idempotency-Key (one this org used already, a new one, a malformed one): the same 404, before the key is looked at.
    expect((await post(tenant, { to: BOB, text: 'a' }, { 'idempotency-key': 'used' })).status).toBe(202);
    for (const key of ['used', 'unused', 'x'.repeat(256)]) {
      for (const session of [other.sessionId, '01J9ZX8K2QHV0M3T6R7P4N5W8C'])
        expect((await toSession(session, { 'idempotency-key': key })).text).toBe(unknown.text);
    }
  }, 60_000);
});
