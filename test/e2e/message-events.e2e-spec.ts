import { randomBytes } from 'node:crypto';
import { BaileysPhone } from '../support/baileys-phone';
import { IsolatedDatabase, isolatedDatabase } from '../support/isolated-database';
import { SseClient } from '../support/sse-client';
import { syncSink } from '../support/sync-helpers';
import { TestApp, Tenant } from '../support/test-app';
import { WebhookReceiver } from '../support/webhook-receiver';

const ENV = {
  WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8',
  WEBHOOK_TIMEOUT_MS: '2000',
  EVENTS_POLL_INTERVAL_MS: '200',
  EVENTS_STREAM_HEARTBEAT_MS: '1000',
  JOB_QUEUE_MAINTENANCE_SECONDS: '1',
};
const T0 = 1_719_000_000; // seconds
const pn = (n: number) => `1666${String(n).padStart(7, '0')}@s.whatsapp.net`;
const TYPES = ['message.received', 'message.updated', 'chat.updated'];

interface Party {
  tenant: Tenant;
  stream: SseClient;
  phone: BaileysPhone;
}

describe('Message events: message.received and message.updated, from the sync to the stream and webhooks', () => {
  let database: IsolatedDatabase;
  let app: TestApp;
  let receiver: WebhookReceiver;
  const streams: SseClient[] = [];

  beforeAll(async () => {
    database = await isolatedDatabase();
    app = await TestApp.start({ ...ENV, DATABASE_URL: database.url });
    receiver = await WebhookReceiver.start();
  });

  afterAll(async () => {
    for (const stream of streams) stream.close();
    await receiver?.close();
    await app?.close();
    await database?.drop();
  });

  /** A tenant with a webhook for the message (and chat) events, a stream, and a phone feeding the sync Baileys-shaped events. */
  async function party(): Promise<Party> {
    const tenant = await app.createTenant(['read', 'admin']);
    const created = await app.request('/api/v1/webhooks', {
      token: tenant.apiKey,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, eventTypes: TYPES }),
    });
    expect(created.status).toBe(201);
    const stream = await SseClient.open(`${app.baseUrl}/api/v1/events/stream?types=${TYPES.join(',')}`, { authorization: `Bearer ${tenant.apiKey}` });
    expect(stream.status).toBe(200);
    streams.push(stream);
    return { tenant, stream, phone: await BaileysPhone.create(syncSink(app), tenant.sessionId) };
  }

  const messageEvents = (stream: SseClient) => stream.events().filter((event) => event.type.startsWith('message.'));
  const deliveredMessageEvents = (tenant: Tenant) => receiver.requests.filter((r) => r.json.orgId === tenant.orgId && r.json.type.startsWith('message.'));

  async function shown(tenant: Tenant, id: number): Promise<any> {
    const response = await app.request(`/api/v1/sessions/${tenant.sessionId}/messages/${id}`, { token: tenant.apiKey });
    expect(response.status).toBe(200);
    return response.body;
  }

  /** Waits for the stream's next message event after the `seen` first ones. */
  async function nextMessageEvent(stream: SseClient, seen: number) {
    return stream.waitFor(() => messageEvents(stream)[seen]);
  }

  /**
   * A chat change committed after everything before it: once the stream shows it, every event
   * committed earlier has been streamed (ids grow in commit order, the stream sends in order).
   */
  async function marker(party: Party, name: string): Promise<void> {
    await app.insertChats(party.tenant.sessionId, [{ name }]);
    await party.stream.waitFor(() => party.stream.events().some((event) => event.type === 'chat.updated' && event.json.data.name === name));
  }

  async function loggedMessageEvents(tenant: Tenant): Promise<{ type: string; data: any }[]> {
    return app.dataSource.query(`SELECT type, data FROM events WHERE org_id = $1 AND type LIKE 'message.%' ORDER BY id`, [tenant.orgId]);
  }

  it('a live message stored by the sync gives exactly one message.received, on the stream and to the webhook, as GET shows the message; a history chunk gives none', async () => {
    const me = await party();
    const { HistorySyncType } = me.phone.proto.HistorySync;
    await me.phone.historySync({
      syncType: HistorySyncType.INITIAL_BOOTSTRAP,
      conversations: [
        {
          id: pn(1),
          conversationTimestamp: T0 + 2,
          messages: [
            { id: 'H02', ts: T0 + 2, text: 'old two' },
            { id: 'H01', ts: T0 + 1, text: 'old one' },
          ],
        },
      ],
      progress: 100,
    });
    await me.phone.message(pn(1), { id: 'L01', ts: T0 + 10, text: 'live one', pushName: 'Alice' });

    const event = await nextMessageEvent(me.stream, 0);
    expect(event.type).toBe('message.received');
    const message = await shown(me.tenant, event.json.data.id);
    expect(message).toMatchObject({ key: { remoteJid: pn(1), id: 'L01', fromMe: false, participant: null }, text: 'live one', pushName: 'Alice' });
    expect(event.json).toEqual({
      id: event.id,
      type: 'message.received',
      orgId: me.tenant.orgId,
      sessionId: me.tenant.sessionId,
      occurredAt: expect.any(Number),
      data: message,
    });

    const delivered = await receiver.waitFor(() => deliveredMessageEvents(me.tenant)[0]);
    expect(delivered.id).toBe(event.id);
    expect(delivered.json).toEqual(event.json);

    await marker(me, 'after the live message');
    expect(messageEvents(me.stream)).toHaveLength(1);
    expect((await loggedMessageEvents(me.tenant)).map((logged) => [logged.type, logged.data.key.id])).toEqual([['message.received', 'L01']]);
    await receiver.waitFor(() => receiver.requests.some((r) => r.json.orgId === me.tenant.orgId && r.json.data.name === 'after the live message'));
    expect(deliveredMessageEvents(me.tenant)).toHaveLength(1);
  });

  it('a receipt, an edit, a reaction and a revoke each give message.updated with the message as GET shows it; replaying them gives nothing', async () => {
    const me = await party();
    const image = {
      imageMessage: {
        mimetype: 'image/jpeg',
        fileLength: 4321,
        width: 640,
        height: 480,
        caption: 'a photo',
        mediaKey: randomBytes(32),
        fileSha256: randomBytes(32),
        fileEncSha256: randomBytes(32),
        directPath: '/v/t62.7118-24/abc?ccb=11-4',
      },
    };
    await me.phone.message(pn(2), { id: 'M01', ts: T0 + 20, text: 'hi', pushName: 'Bob' });
    await me.phone.message(pn(2), { id: 'M02', ts: T0 + 21, fromMe: true, text: 'sent from my phone' });
    await me.phone.message(pn(2), { id: 'M03', ts: T0 + 22, content: image });
    let seen = 0;
    const expectNext = async (type: string, check: (data: any) => void) => {
      const event = await nextMessageEvent(me.stream, seen++);
      expect(event.type).toBe(type);
      check(event.json.data);
      expect(event.json.data).toEqual(await shown(me.tenant, event.json.data.id));
      return event;
    };
    // A message sent from the account's other device is received too (key.fromMe true).
    await expectNext('message.received', (data) => expect(data).toMatchObject({ key: { id: 'M01', fromMe: false }, text: 'hi', status: null }));
    await expectNext('message.received', (data) => expect(data).toMatchObject({ key: { id: 'M02', fromMe: true }, senderJid: null }));
    await expectNext('message.received', (data) =>
      expect(data).toMatchObject({ key: { id: 'M03' }, type: 'image', media: { mimetype: 'image/jpeg', size: 4321, width: 640, height: 480 } }),
    );

    const receipt = () => me.phone.emit('messages.update', [{ key: { remoteJid: pn(2), fromMe: true, id: 'M02' }, update: { status: 4 } }]);
    await receipt();
    await expectNext('message.updated', (data) => expect(data).toMatchObject({ key: { id: 'M02' }, status: 'read' }));

    const edit = () =>
      me.phone.message(pn(2), {
        id: 'E01',
        ts: T0 + 30,
        content: {
          protocolMessage: {
            type: 14,
            key: { remoteJid: pn(2), fromMe: false, id: 'M01' },
            editedMessage: { conversation: 'hi (edited)' },
            timestampMs: (T0 + 30) * 1000,
          },
        },
      });
    await edit();
    await expectNext('message.updated', (data) => expect(data).toMatchObject({ key: { id: 'M01' }, text: 'hi (edited)', editedAt: (T0 + 30) * 1000 }));

    const react = (id: string, emoji: string, at: number) =>
      me.phone.message(pn(2), {
        id,
        ts: at,
        content: { reactionMessage: { key: { remoteJid: pn(2), fromMe: true, id: 'M02' }, text: emoji, senderTimestampMs: at * 1000 } },
      });
    await react('X01', '👍', T0 + 31);
    await expectNext('message.updated', (data) => expect(data.reactions).toEqual([{ senderJid: pn(2), fromMe: false, emoji: '👍', at: (T0 + 31) * 1000 }]));
    await react('X02', '🎉', T0 + 32);
    await expectNext('message.updated', (data) => expect(data.reactions).toEqual([{ senderJid: pn(2), fromMe: false, emoji: '🎉', at: (T0 + 32) * 1000 }]));

    const revoke = () =>
      me.phone.message(pn(2), { id: 'R01', ts: T0 + 40, content: { protocolMessage: { type: 0, key: { remoteJid: pn(2), fromMe: false, id: 'M03' } } } });
    await revoke();
    await expectNext('message.updated', (data) => expect(data).toMatchObject({ key: { id: 'M03' }, deletedAt: (T0 + 40) * 1000, text: null, media: null }));

    // The same events again (WhatsApp and Baileys do redeliver): nothing shown changes, so no event.
    const logged = (await loggedMessageEvents(me.tenant)).length;
    await me.phone.message(pn(2), { id: 'M01', ts: T0 + 20, text: 'hi', pushName: 'Bob' });
    await me.phone.message(pn(2), { id: 'M02', ts: T0 + 21, fromMe: true, text: 'sent from my phone' });
    await receipt();
    await edit();
    await react('X01', '👍', T0 + 31);
    await react('X02', '🎉', T0 + 32);
    await revoke();
    await marker(me, 'after the replay');
    expect(messageEvents(me.stream)).toHaveLength(seen);
    expect(await loggedMessageEvents(me.tenant)).toHaveLength(logged);
    await receiver.waitFor(() => receiver.requests.some((r) => r.json.orgId === me.tenant.orgId && r.json.data.name === 'after the replay'));
    await receiver.waitFor(() => deliveredMessageEvents(me.tenant).length >= seen);
    expect(deliveredMessageEvents(me.tenant).map((r) => r.id)).toEqual(messageEvents(me.stream).map((event) => event.id));
  });

  it('a message sent through the API (it has an outbox row) is not message.received; its status changes are message.updated', async () => {
    const me = await party();
    const [chatId] = await app.insertChats(me.tenant.sessionId, [{ jid: pn(3), name: 'Carol' }]);
    const messageId = await app.dataSource.transaction(async (manager) => {
      const [{ id }]: { id: string }[] = await manager.query(`SELECT nextval('messages_id_seq')::text AS id`);
      await manager.query(
        `INSERT INTO message_outbox (session_id, message_id, org_id, jid, content, expires_at) VALUES ($1, $2, $3, $4, '{}', now() + interval '1 hour')`,
        [me.tenant.sessionId, id, me.tenant.orgId, pn(3)],
      );
      await manager.query(
        `INSERT INTO messages (session_id, id, chat_id, wa_id, from_me, remote_jid, ts, type, body, status) VALUES ($1, $2, $3, '3EB0AAAA', true, $4, $5, 'text', 'via the API', 1)`,
        [me.tenant.sessionId, id, chatId, pn(3), Date.now()],
      );
      return Number(id);
    });
    // As the outbox sender marks it sent, then the echo of the socket and a delivery receipt through the sync.
    await app.dataSource.query(`UPDATE messages SET status = GREATEST(status, 3) WHERE session_id = $1 AND id = $2`, [me.tenant.sessionId, messageId]);
    const sent = await nextMessageEvent(me.stream, 0);
    expect(sent.type).toBe('message.updated');
    expect(sent.json.data).toEqual(await shown(me.tenant, messageId));
    expect(sent.json.data.status).toBe('sent');
    await me.phone.emit('messages.update', [{ key: { remoteJid: pn(3), fromMe: true, id: '3EB0AAAA' }, update: { status: 3 } }]);
    const delivered = await nextMessageEvent(me.stream, 1);
    expect([delivered.type, delivered.json.data.id, delivered.json.data.status]).toEqual(['message.updated', messageId, 'delivered']);
    await marker(me, 'after the API message');
    expect((await loggedMessageEvents(me.tenant)).map((logged) => logged.type)).toEqual(['message.updated', 'message.updated']);
  });

  it('Send message itself: each accept is one chat.updated (a new chat, then the same one), never message.received; an accept that leaves the chat as listed is none', async () => {
    const tenant = await app.createTenant(['read', 'send']);
    const send = async (text: string) => {
      const accepted = await app.request(`/api/v1/sessions/${tenant.sessionId}/messages`, {
        token: tenant.apiKey,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': text },
        body: JSON.stringify({ to: '+16660000007', text }),
      });
      expect(accepted.status).toBe(202);
      return accepted.body;
    };
    // Events are written when the accepting transaction commits, before the answer.
    const logged = async (): Promise<{ type: string; data: any }[]> =>
      app.dataSource.query(`SELECT type, data FROM events WHERE org_id = $1 AND type <> 'session.status' ORDER BY id`, [tenant.orgId]);

    const first = await send('one');
    const second = await send('two');
    const chats = async () => (await app.request(`/api/v1/sessions/${tenant.sessionId}/chats`, { token: tenant.apiKey })).body.data;
    expect((await logged()).map(({ type, data }) => [type, data.jid, data.lastMessageAt])).toEqual([
      ['chat.updated', pn(7), first.timestamp],
      ['chat.updated', pn(7), second.timestamp],
    ]);
    expect((await logged())[1].data).toEqual((await chats())[0]);

    // A chat whose last message is later than the accepted one: its listed fields stay, no event.
    await app.dataSource.query(`UPDATE chats SET last_message_at = $2 WHERE session_id = $1`, [tenant.sessionId, Date.now() + 3_600_000]);
    await send('three');
    expect((await logged()).length).toBe(3);
  });

  it('a failed own message carries its failureReason as GET shows it: the outbox reason, else WhatsApp refused it', async () => {
    const me = await party();
    const [chatId] = await app.insertChats(me.tenant.sessionId, [{ jid: pn(5), name: 'Dave' }]);
    const outboxMessage = async (waId: string) =>
      app.dataSource.transaction(async (manager) => {
        const [{ id }]: { id: string }[] = await manager.query(`SELECT nextval('messages_id_seq')::text AS id`);
        await manager.query(
          `INSERT INTO message_outbox (session_id, message_id, org_id, jid, content, expires_at) VALUES ($1, $2, $3, $4, '{}', now() + interval '1 hour')`,
          [me.tenant.sessionId, id, me.tenant.orgId, pn(5)],
        );
        await manager.query(
          `INSERT INTO messages (session_id, id, chat_id, wa_id, from_me, remote_jid, ts, type, body, status) VALUES ($1, $2, $3, $4, true, $5, $6, 'text', 'x', 1)`,
          [me.tenant.sessionId, id, chatId, waId, pn(5), Date.now()],
        );
        return Number(id);
      });
    const [expired, refused] = [await outboxMessage('3EB0BBBB'), await outboxMessage('3EB0CCCC')];
    // As the outbox fails an expired message (its reason and the status in one statement) ...
    await app.dataSource.query(
      `WITH done AS (UPDATE message_outbox SET state = 'failed', failure_reason = 'expired, send it again' WHERE session_id = $1 AND message_id = $2 RETURNING message_id)
       UPDATE messages m SET status = GREATEST(m.status, 2) FROM done WHERE m.session_id = $1 AND m.id = done.message_id`,
      [me.tenant.sessionId, expired],
    );
    // ... and as an error ack from WhatsApp fails a message handed over (the outbox row has no reason).
    await app.dataSource.query(`UPDATE messages SET status = GREATEST(status, 2) WHERE session_id = $1 AND id = $2`, [me.tenant.sessionId, refused]);
    const events = await me.stream.waitFor(() => messageEvents(me.stream).length >= 2 && messageEvents(me.stream));
    expect(events.map((event) => [event.type, event.json.data.id, event.json.data.status])).toEqual([
      ['message.updated', expired, 'failed'],
      ['message.updated', refused, 'failed'],
    ]);
    expect(events[0].json.data.failureReason).toBe('expired, send it again');
    expect(events[1].json.data.failureReason).toMatch(/^WhatsApp refused the message/);
    for (const event of events) expect(event.json.data).toEqual(await shown(me.tenant, event.json.data.id));
  });

  it("never shows one org's message events to another, on the stream or to webhooks", async () => {
    const [mine, theirs] = [await party(), await party()];
    await mine.phone.message(pn(4), { id: 'O01', ts: T0 + 50, text: 'for mine' });
    await theirs.phone.message(pn(4), { id: 'O02', ts: T0 + 51, text: 'for theirs' });
    await nextMessageEvent(mine.stream, 0);
    await nextMessageEvent(theirs.stream, 0);
    await marker(mine, 'mine done');
    await marker(theirs, 'theirs done');
    await receiver.waitFor(() => deliveredMessageEvents(mine.tenant).length >= 1 && deliveredMessageEvents(theirs.tenant).length >= 1);
    for (const [party, id] of [
      [mine, 'O01'],
      [theirs, 'O02'],
    ] as const) {
      expect(messageEvents(party.stream).map((event) => [event.json.orgId, event.json.data.key.id])).toEqual([[party.tenant.orgId, id]]);
      expect(deliveredMessageEvents(party.tenant).map((r) => r.json.data.key.id)).toEqual([id]);
    }
    // Every webhook delivery of these two orgs went to the webhook of its own org.
    const [{ crossed }] = await app.dataSource.query<{ crossed: number }[]>(
      `SELECT count(*)::int AS crossed FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id WHERE w.org_id <> e.org_id`,
    );
    expect(crossed).toBe(0);
  });
});
