import { randomBytes } from 'node:crypto';
import type { BaileysEventBatch, SyncEventSink } from '../../src/whatsapp-sync/sync-event-sink';
import { runCommand } from '../../src/cli/commands';
import { MessageRetention } from '../../src/messages/message-retention';
import { BaileysPhone } from '../support/baileys-phone';
import { listAllChats, syncSink } from '../support/sync-helpers';
import { TestApp, Tenant } from '../support/test-app';

const T0 = 1_719_000_000; // seconds
const pn = (n: number) => `1555${String(n).padStart(7, '0')}@s.whatsapp.net`;
const lid = (n: number) => `2${String(n).padStart(14, '0')}@lid`;
const GROUP = '120363000000000077@g.us';

/** Forwards every batch to the gateway's sink and keeps it, to apply again elsewhere. */
class CapturingSink implements SyncEventSink {
  readonly batches: BaileysEventBatch[] = [];
  constructor(private readonly target: SyncEventSink) {}
  async handle(sessionId: string, batch: BaileysEventBatch): Promise<void> {
    this.batches.push(batch);
    await this.target.handle(sessionId, batch);
  }
}

/** A message as the test compares it: without what differs between two sessions holding the same copy. */
function comparable(message: any) {
  const { id: _id, sessionId: _sessionId, chatId: _chatId, ...rest } = message;
  return rest;
}

const mediaFields = (mimetype: string, extra: Record<string, unknown> = {}) => ({
  mimetype,
  fileLength: 1234,
  mediaKey: randomBytes(32),
  fileSha256: randomBytes(32),
  fileEncSha256: randomBytes(32),
  directPath: '/v/t62.7118-24/abc?ccb=11-4',
  ...extra,
});

describe("Messages: the stored copy of every chat's messages, synced and listed", () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await TestApp.start({ MESSAGE_RETENTION_BATCH: '10', MESSAGE_RETENTION_SWEEP_MS: '0' });
  });
  afterAll(async () => {
    await app.close();
  });

  async function chatId(tenant: Tenant, jid: string): Promise<number> {
    const chat = (await listAllChats(app, tenant)).find((c) => c.jid === jid);
    if (!chat) throw new Error(`no chat ${jid}`);
    return chat.id;
  }

  async function listAll(tenant: Tenant, chat: number, limit = 200): Promise<any[]> {
    const messages: any[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const response = await app.request(`/api/v1/sessions/${tenant.sessionId}/chats/${chat}/messages${query}`, { token: tenant.apiKey });
      if (response.status !== 200) throw new Error(`List messages answered ${response.status}: ${response.text}`);
      messages.push(...response.body.data);
      cursor = response.body.nextCursor;
    } while (cursor !== null);
    return messages;
  }

  /** A history chunk with a message of every type, then live messages, edits, a revoke, reactions and receipts. */
  async function playConversation(phone: BaileysPhone): Promise<void> {
    const { HistorySyncType } = phone.proto.HistorySync;
    const stub = (await import('baileys')).WAMessageStubType;
    await phone.historySync({
      syncType: HistorySyncType.INITIAL_BOOTSTRAP,
      conversations: [
        {
          id: pn(1),
          conversationTimestamp: T0 + 20,
          unreadCount: 2,
          messages: [
            { id: 'H13', ts: T0 + 13, content: { groupInviteMessage: { groupJid: GROUP, inviteCode: 'x', groupName: 'Invite' } } },
            { id: 'H12', ts: T0 + 12, content: { extendedTextMessage: { text: 'ping @Bob', contextInfo: { stanzaId: 'H01', mentionedJid: [pn(2)] } } } },
            { id: 'H11', ts: T0 + 11, content: { pollCreationMessageV3: { name: 'Lunch?', options: [{ optionName: 'yes' }], selectableOptionsCount: 1 } } },
            { id: 'H10', ts: T0 + 10, content: { contactMessage: { displayName: 'Carol', vcard: 'BEGIN:VCARD\nEND:VCARD' } } },
            { id: 'H09', ts: T0 + 9, content: { locationMessage: { degreesLatitude: 1.5, degreesLongitude: 2.5, name: 'Cafe' } } },
            { id: 'H08', ts: T0 + 8, content: { stickerMessage: mediaFields('image/webp', { width: 512, height: 512 }) } },
            { id: 'H07', ts: T0 + 7, content: { documentMessage: mediaFields('application/pdf', { fileName: 'report\u0000.pdf', caption: 'the report' }) } },
            { id: 'H06', ts: T0 + 6, content: { audioMessage: mediaFields('audio/ogg; codecs=opus', { ptt: true, seconds: 7 }) } },
            { id: 'H05', ts: T0 + 5, content: { audioMessage: mediaFields('audio/mpeg', { seconds: 180 }) } },
            { id: 'H04', ts: T0 + 4, content: { videoMessage: mediaFields('video/mp4', { caption: 'clip', seconds: 12, width: 640, height: 360 }) } },
            {
              id: 'H03',
              ts: T0 + 3,
              fromMe: true,
              status: 3,
              content: { imageMessage: mediaFields('image/jpeg', { caption: 'photo', width: 1280, height: 960 }) },
            },
            { id: 'H02', ts: T0 + 2, fromMe: true, status: 2, text: 'mine' },
            { id: 'H01', ts: T0 + 1, pushName: 'Alice', text: 'hello' },
          ],
        },
        {
          id: GROUP,
          name: 'Team',
          conversationTimestamp: T0 + 5,
          messages: [
            { id: 'G01', ts: T0 + 1, participant: pn(3), stubType: stub.GROUP_CHANGE_SUBJECT },
            { id: 'G02', ts: T0 + 2, fromMe: true, status: 2, text: 'hi team' },
          ].reverse(),
        },
      ],
      progress: 100,
    });
    // Live: a message, an edit of it, a revoke of a history message, reactions, receipts.
    await phone.message(pn(1), { id: 'L01', ts: T0 + 100, text: 'live one', pushName: 'Alice' });
    await phone.message(pn(1), {
      id: 'E01',
      ts: T0 + 101,
      content: {
        protocolMessage: {
          type: 14,
          key: { remoteJid: pn(1), fromMe: false, id: 'L01' },
          editedMessage: { conversation: 'live one (edited)' },
          timestampMs: (T0 + 101) * 1000,
        },
      },
    });
    await phone.message(pn(1), { id: 'R01', ts: T0 + 102, content: { protocolMessage: { type: 0, key: { remoteJid: pn(1), fromMe: false, id: 'H12' } } } });
    await phone.message(pn(1), {
      id: 'X01',
      ts: T0 + 103,
      content: { reactionMessage: { key: { remoteJid: pn(1), fromMe: true, id: 'H03' }, text: '👍', senderTimestampMs: (T0 + 103) * 1000 } },
    });
    await phone.message(pn(1), {
      id: 'X02',
      ts: T0 + 104,
      content: { reactionMessage: { key: { remoteJid: pn(1), fromMe: true, id: 'H03' }, text: '❤', senderTimestampMs: (T0 + 104) * 1000 } },
    });
    await phone.message(pn(1), {
      id: 'X03',
      ts: T0 + 105,
      fromMe: true,
      content: { reactionMessage: { key: { remoteJid: pn(1), fromMe: false, id: 'H01' }, text: '😂', senderTimestampMs: (T0 + 105) * 1000 } },
    });
    await phone.emit('messages.update', [{ key: { remoteJid: pn(1), fromMe: true, id: 'H02' }, update: { status: 4, messageTimestamp: T0 + 106 } }]);
    await phone.emit('messages.update', [{ key: { remoteJid: pn(1), fromMe: true, id: 'H03' }, update: { status: 3 } }]);
    await phone.emit('message-receipt.update', [{ key: { remoteJid: GROUP, fromMe: true, id: 'G02' }, receipt: { userJid: pn(3), readTimestamp: T0 + 107 } }]);
  }

  const EXPECTED_DM = [
    ['L01', 'text', 'live one (edited)'],
    ['H13', 'unsupported', null],
    ['H12', 'text', null],
    ['H11', 'poll', 'Lunch?'],
    ['H10', 'contact', 'Carol'],
    ['H09', 'location', 'Cafe'],
    ['H08', 'sticker', null],
    ['H07', 'document', 'the report'],
    ['H06', 'voice', null],
    ['H05', 'audio', null],
    ['H04', 'video', 'clip'],
    ['H03', 'image', 'photo'],
    ['H02', 'text', 'mine'],
    ['H01', 'text', 'hello'],
  ];

  it('stores a history chunk with a message of every type, then live messages, edits, revokes, reactions and receipts', async () => {
    const tenant = await app.createTenant(['read']);
    const phone = await BaileysPhone.create(syncSink(app), tenant.sessionId);
    await playConversation(phone);

    const dm = await listAll(tenant, await chatId(tenant, pn(1)));
    expect(dm.map((m) => [m.key.id, m.type, m.text])).toEqual(EXPECTED_DM);
    const byId = new Map(dm.map((m) => [m.key.id, m]));
    expect(byId.get('L01')).toMatchObject({
      editedAt: (T0 + 101) * 1000,
      timestamp: (T0 + 100) * 1000,
      senderJid: pn(1),
      pushName: 'Alice',
      status: null,
      deletedAt: null,
    });
    expect(byId.get('H12')).toMatchObject({ deletedAt: (T0 + 102) * 1000, quotedMessageId: 'H01', mentions: [pn(2)] });
    expect(byId.get('H07')!.media).toEqual({ mimetype: 'application/pdf', size: 1234, fileName: 'report.pdf', width: null, height: null, duration: null });
    expect(byId.get('H06')!.media).toMatchObject({ mimetype: 'audio/ogg', duration: 7 });
    expect(byId.get('H04')!.media).toMatchObject({ width: 640, height: 360, duration: 12 });
    expect(byId.get('H03')).toMatchObject({
      key: { remoteJid: pn(1), id: 'H03', fromMe: true, participant: null },
      senderJid: null,
      status: 'delivered',
      reactions: [{ senderJid: pn(1), fromMe: false, emoji: '❤', at: (T0 + 104) * 1000 }],
    });
    expect(byId.get('H02')).toMatchObject({ status: 'read' });
    expect(byId.get('H01')).toMatchObject({ reactions: [{ senderJid: null, fromMe: true, emoji: '😂', at: (T0 + 105) * 1000 }], status: null });
    // Download internals never reach the client.
    expect(JSON.stringify(dm)).not.toMatch(/directPath|mediaKey|fileSha256/);

    const group = await listAll(tenant, await chatId(tenant, GROUP));
    expect(group.map((m) => [m.key.id, m.type, m.status, m.key.participant])).toEqual([
      ['G02', 'text', 'read', null],
      ['G01', 'system', null, pn(3)],
    ]);

    // The chat's last activity and unread count agree with its stored messages.
    const chat = (await listAllChats(app, tenant)).find((c) => c.jid === pn(1))!;
    expect(chat.lastMessageAt).toBe(dm[0].timestamp);
    expect(chat.unreadCount).toBe(3);

    // One message by its id; the media key is stored encrypted.
    const one = await app.request(`/api/v1/sessions/${tenant.sessionId}/messages/${byId.get('H03')!.id}`, { token: tenant.apiKey });
    expect(one.status).toBe(200);
    expect(one.body).toEqual(byId.get('H03'));
    const [stored] = await app.dataSource.query(`SELECT media_key FROM messages WHERE session_id = $1 AND wa_id = 'H03'`, [tenant.sessionId]);
    expect(stored.media_key.length).toBeGreaterThan(32 + 16);
  });

  it('ends in the same pages when the events arrive shuffled, duplicated and replayed', async () => {
    const first = await app.createTenant(['read']);
    const capture = new CapturingSink(syncSink(app));
    await playConversation(await BaileysPhone.create(capture, first.sessionId));
    const expected = (await listAll(first, await chatId(first, pn(1)))).map(comparable);

    const second = await app.createTenant(['read']);
    const [history, ...rest] = capture.batches;
    // The chats come with the history; after it, every later batch in a shuffled order, some twice, then all again.
    const shuffled = [...rest].sort(() => Math.random() - 0.5);
    const sink = syncSink(app);
    await sink.handle(second.sessionId, history);
    for (const batch of [...shuffled, ...shuffled.slice(0, 3), history, ...rest]) await sink.handle(second.sessionId, batch);
    expect((await listAll(second, await chatId(second, pn(1)), 3)).map(comparable)).toEqual(expected);
    // Replaying all of it changes nothing either.
    for (const batch of capture.batches) await sink.handle(first.sessionId, batch);
    expect((await listAll(first, await chatId(first, pn(1)), 7)).map(comparable)).toEqual(expected);
  });

  it('a message known first through its edit, reaction or receipt is listed once it arrives, with all of them', async () => {
    const tenant = await app.createTenant(['read']);
    const phone = await BaileysPhone.create(syncSink(app), tenant.sessionId);
    await phone.message(pn(4), { id: 'A01', ts: T0, text: 'first' });
    const chat = await chatId(tenant, pn(4));
    await phone.emit('messages.update', [{ key: { remoteJid: pn(4), fromMe: true, id: 'B01' }, update: { status: 4 } }]);
    await phone.emit('messages.update', [
      {
        key: { remoteJid: pn(4), fromMe: true, id: 'B01' },
        update: { message: { editedMessage: { message: { conversation: 'fixed' } } }, messageTimestamp: T0 + 9 },
      },
    ]);
    await phone.emit('messages.reaction', [
      {
        key: { remoteJid: pn(4), fromMe: true, id: 'B01' },
        reaction: { key: { remoteJid: pn(4), fromMe: false, id: 'Z' }, text: '🔥', senderTimestampMs: (T0 + 8) * 1000 },
      },
    ]);
    expect((await listAll(tenant, chat)).map((m) => m.key.id)).toEqual(['A01']);
    await phone.message(pn(4), { id: 'B01', ts: T0 + 5, fromMe: true, text: 'fixd' }, 'append');
    const [b] = await listAll(tenant, chat);
    expect(b).toMatchObject({
      key: { id: 'B01' },
      text: 'fixed',
      editedAt: (T0 + 9) * 1000,
      status: 'read',
      timestamp: (T0 + 5) * 1000,
      reactions: [{ emoji: '🔥', senderJid: pn(4) }],
    });
    // Deleted on the phone ("delete for me"): gone from the copy.
    await phone.emit('messages.delete', { keys: [{ remoteJid: pn(4), fromMe: true, id: 'B01' }] });
    expect((await listAll(tenant, chat)).map((m) => m.key.id)).toEqual(['A01']);
  });

  it('messages follow their chat when a @lid chat and a phone chat turn out to be one person', async () => {
    const tenant = await app.createTenant(['read']);
    const phone = await BaileysPhone.create(syncSink(app), tenant.sessionId);
    await phone.message(lid(5), { id: 'L1', ts: T0 + 1, text: 'from lid' });
    await phone.message(lid(5), { id: 'D1', ts: T0 + 3, text: 'both' });
    await phone.message(pn(5), { id: 'P1', ts: T0 + 2, text: 'from pn' });
    await phone.message(pn(5), { id: 'D1', ts: T0 + 3, text: 'both' });
    await phone.emit('messages.reaction', [
      {
        key: { remoteJid: lid(5), fromMe: false, id: 'D1' },
        reaction: { key: { remoteJid: lid(5), fromMe: true, id: 'Y' }, text: '👌', senderTimestampMs: (T0 + 4) * 1000 },
      },
    ]);
    await phone.lidMapping(lid(5), pn(5));
    const chats = (await listAllChats(app, tenant)).filter((c) => c.jid === pn(5) || c.jid === lid(5));
    expect(chats).toHaveLength(1);
    const messages = await listAll(tenant, chats[0].id);
    expect(messages.map((m) => [m.key.id, m.text, m.reactions.length])).toEqual([
      ['D1', 'both', 1],
      ['P1', 'from pn', 0],
      ['L1', 'from lid', 0],
    ]);
    // A chat deleted on the phone takes its messages with it.
    await phone.emit('chats.delete', [pn(5)]);
    const [{ count }] = await app.dataSource.query(`SELECT count(*)::int AS count FROM messages WHERE session_id = $1`, [tenant.sessionId]);
    expect(count).toBe(0);
  });

  it('a deleted session takes every message of its chats with it; a session with the same chats and ids keeps its own', async () => {
    const [gone, kept] = [await app.createTenant(['read', 'manage']), await app.createTenant(['read'])];
    for (const tenant of [gone, kept]) {
      const phone = await BaileysPhone.create(syncSink(app), tenant.sessionId);
      for (const n of [30, 31]) await phone.message(pn(n), { id: `K${n}`, ts: T0 + n, text: `chat ${n}` });
    }
    const count = async (sessionId: string) =>
      (await app.dataSource.query(`SELECT count(*)::int AS count FROM messages WHERE session_id = $1`, [sessionId]))[0].count;
    expect([await count(gone.sessionId), await count(kept.sessionId)]).toEqual([2, 2]);
    expect((await app.request(`/api/v1/sessions/${gone.sessionId}`, { token: gone.apiKey, method: 'DELETE' })).status).toBe(204);
    expect([await count(gone.sessionId), await count(kept.sessionId)]).toEqual([0, 2]);
    expect((await listAll(kept, await chatId(kept, pn(31)))).map((m) => m.text)).toEqual(['chat 31']);
  });

  it('keeps hostile values bounded: NUL characters, huge strings, bad numbers and keys', async () => {
    const tenant = await app.createTenant(['read']);
    const phone = await BaileysPhone.create(syncSink(app), tenant.sessionId);
    await phone.message(pn(6), { id: 'N1', ts: T0, text: `a\u0000b${'x'.repeat(200_000)}`, pushName: 'P' });
    await phone.emit('messages.upsert', {
      type: 'notify',
      messages: [
        {
          key: { remoteJid: pn(6), fromMe: false, id: 'N2' },
          messageTimestamp: 'soon',
          message: { imageMessage: { mimetype: 'x'.repeat(10_000), fileLength: -5, width: 1e12, mediaKey: 'short', directPath: 'no-slash' } },
        },
        { key: { remoteJid: pn(6), fromMe: false, id: 'bad id with spaces' }, messageTimestamp: T0, message: { conversation: 'dropped' } },
        { key: { remoteJid: `${'9'.repeat(300)}@s.whatsapp.net`, fromMe: false, id: 'N3' }, messageTimestamp: T0, message: { conversation: 'dropped' } },
      ],
    });
    const messages = await listAll(tenant, await chatId(tenant, pn(6)));
    expect(messages.map((m) => m.key.id).sort()).toEqual(['N1', 'N2']);
    const n1 = messages.find((m) => m.key.id === 'N1');
    expect(n1.text.startsWith('ab')).toBe(true);
    // Cut at 65,536 characters, then the NUL dropped (values.ts storableText).
    expect(n1.text.length).toBe(65_535);
    expect(messages.find((m) => m.key.id === 'N2')).toMatchObject({ type: 'image', media: null });
  });

  it('a history batch of thousands of messages, some of them twice, is stored whole and merged (upserts in slices)', async () => {
    const tenant = await app.createTenant(['read']);
    // 2,600 messages in two chats (more than two upsert slices of 1,000 per chat), then 300 of them
    // again later in the same batch with a further status: they start a second run of distinct keys.
    const jids = [pn(20), pn(21)];
    const messages = jids.flatMap((jid, c) =>
      Array.from({ length: 1300 }, (_, i) => ({
        key: { remoteJid: jid, fromMe: i % 2 === 0, id: `S${c}X${i}` },
        messageTimestamp: T0 + i,
        status: i % 2 === 0 ? 2 : undefined,
        message: { conversation: `slice ${c} ${i}` },
      })),
    );
    const again = messages
      .filter((m) => m.key.fromMe)
      .slice(0, 300)
      .map((m) => ({ ...m, status: 4 }));
    const conversations = jids.map((id) => ({ id, conversationTimestamp: T0 + 1300 }));
    await syncSink(app).handle(tenant.sessionId, {
      'messaging-history.set': { chats: conversations, contacts: [], messages: [...messages, ...again], syncType: 2, progress: 100, isLatest: false },
    });
    for (const [c, jid] of jids.entries()) {
      const listed = await listAll(tenant, await chatId(tenant, jid));
      expect(listed).toHaveLength(1300);
      expect(listed.map((m) => m.key.id)).toEqual(Array.from({ length: 1300 }, (_, i) => `S${c}X${1299 - i}`));
      const read = new Set(again.filter((m) => m.key.remoteJid === jid).map((m) => m.key.id));
      for (const message of listed) {
        expect({ id: message.key.id, text: message.text, status: message.status }).toEqual({
          id: message.key.id,
          text: `slice ${c} ${message.key.id.slice(3)}`,
          status: message.key.fromMe ? (read.has(message.key.id) ? 'read' : 'sent') : null,
        });
      }
    }
  });

  it('retention: an org keeps everything by default; with N days, older messages are deleted in bounded batches', async () => {
    const kept = await app.createTenant(['read']);
    const limited = await app.createTenant(['read']);
    const now = Date.UTC(2026, 0, 31);
    const day = 86_400;
    const conversation = (jid: string) => ({
      id: jid,
      conversationTimestamp: now / 1000,
      // 25 messages, one a day, the newest today.
      messages: Array.from({ length: 25 }, (_, i) => ({ id: `D${String(i).padStart(2, '0')}`, ts: now / 1000 - i * day, text: `day -${i}` })),
    });
    for (const tenant of [kept, limited]) {
      await (await BaileysPhone.create(syncSink(app), tenant.sessionId)).historySync({ conversations: [conversation(pn(11)), conversation(pn(12))] });
    }
    const out: string[] = [];
    expect(await runCommand(app.app, ['messages', 'retention', '--org', limited.orgId, '--days', '10'], (line) => out.push(line))).toBe(0);
    expect(out).toEqual([`org ${limited.orgId} keeps its messages for 10 days`]);
    const retention = app.app.get(MessageRetention);
    expect(await retention.retentionOf(kept.orgId)).toBeNull();
    // MESSAGE_RETENTION_BATCH is 10 here: 2 chats x 14 old messages take several batches each.
    expect(await retention.sweep(now)).toBeGreaterThanOrEqual(28);
    for (const jid of [pn(11), pn(12)]) {
      const left = await listAll(limited, await chatId(limited, jid));
      expect(left.map((m) => m.key.id)).toEqual(Array.from({ length: 11 }, (_, i) => `D${String(i).padStart(2, '0')}`));
      expect(await listAll(kept, await chatId(kept, jid))).toHaveLength(25);
    }
    await expect(runCommand(app.app, ['messages', 'retention', '--org', limited.orgId, '--days', '0'], () => undefined)).rejects.toThrow(/--days/);
    expect(await runCommand(app.app, ['messages', 'retention', '--org', limited.orgId, '--days', 'keep'], () => undefined)).toBe(0);
    expect(await retention.retentionOf(limited.orgId)).toBeNull();
  });

  describe('the API', () => {
    it('pages newest first by the cursor rules of List chats', async () => {
      const tenant = await app.createTenant(['read']);
      const phone = await BaileysPhone.create(syncSink(app), tenant.sessionId);
      // 120 messages, several in the same second (ordered by id then).
      const messages = Array.from({ length: 120 }, (_, i) => ({ id: `M${String(i).padStart(3, '0')}`, ts: T0 + Math.floor(i / 3), text: `m${i}` }));
      await phone.historySync({ conversations: [{ id: pn(7), conversationTimestamp: T0 + 40, messages: [...messages].reverse() }] });
      const chat = await chatId(tenant, pn(7));
      const base = `/api/v1/sessions/${tenant.sessionId}/chats/${chat}/messages`;
      const first = await app.request(`${base}`, { token: tenant.apiKey });
      expect(first.body.data).toHaveLength(50);
      const all = await listAll(tenant, chat, 50);
      expect(all).toHaveLength(120);
      expect(new Set(all.map((m) => m.id)).size).toBe(120);
      for (let i = 1; i < all.length; i++) {
        const [a, b] = [all[i - 1], all[i]];
        expect(a.timestamp > b.timestamp || (a.timestamp === b.timestamp && a.id > b.id)).toBe(true);
      }
      const exact = await app.request(`${base}?limit=120`, { token: tenant.apiKey });
      expect(exact.body.nextCursor).toBeNull();
      expect((await app.request(`${base}?limit=0`, { token: tenant.apiKey })).body.data).toHaveLength(50);
      expect((await app.request(`${base}?limit=-7`, { token: tenant.apiKey })).body.data).toHaveLength(1);
      expect((await app.request(`${base}?limit=1e3`, { token: tenant.apiKey })).status).toBe(400);
      expect((await app.request(`${base}?cursor=garbage`, { token: tenant.apiKey })).body.error).toMatchObject({
        code: 'invalid_argument',
        details: { parameter: 'cursor' },
      });
      // A cursor is only valid for the chat that issued it.
      await phone.message(pn(8), { ts: T0 });
      const other = await chatId(tenant, pn(8));
      const cursor = first.body.nextCursor;
      expect((await app.request(`/api/v1/sessions/${tenant.sessionId}/chats/${other}/messages?cursor=${cursor}`, { token: tenant.apiKey })).status).toBe(400);
    });

    it('answers the same 404 for a session or chat of another org and a chat of another session; two orgs with the same JIDs and ids see only their own', async () => {
      const a = await app.createTenant(['read']);
      const b = await app.createTenant(['read']);
      for (const tenant of [a, b]) {
        const phone = await BaileysPhone.create(syncSink(app), tenant.sessionId);
        await phone.message(pn(9), { id: 'SAME', ts: T0, text: `for ${tenant.orgId}` });
      }
      const chatA = await chatId(a, pn(9));
      const chatB = await chatId(b, pn(9));
      const [onlyA] = await listAll(a, chatA);
      expect(onlyA.text).toBe(`for ${a.orgId}`);
      const [onlyB] = await listAll(b, chatB);
      expect(onlyB.text).toBe(`for ${b.orgId}`);

      const get = (path: string) => app.request(path, { token: a.apiKey });
      const notFound = [
        await get(`/api/v1/sessions/${b.sessionId}/chats/${chatB}/messages`),
        await get(`/api/v1/sessions/${a.sessionId}/chats/${chatB}/messages`),
        await get(`/api/v1/sessions/${b.sessionId}/chats/${chatA}/messages`),
        await get(`/api/v1/sessions/${a.sessionId}/chats/99999999999/messages`),
        await get(`/api/v1/sessions/${a.sessionId}/chats/abc/messages`),
        await get(`/api/v1/sessions/${a.sessionId}/chats/99999999999999999999/messages`),
        await get(`/api/v1/sessions/not-a-session/chats/${chatA}/messages`),
        await get(`/api/v1/sessions/${b.sessionId}/chats/${chatB}/messages?cursor=garbage`),
      ];
      for (const response of notFound) {
        expect(response.status).toBe(404);
        expect(response.text).toBe(notFound[0].text);
      }
      const messageNotFound = [
        await get(`/api/v1/sessions/${b.sessionId}/messages/${onlyB.id}`),
        await get(`/api/v1/sessions/${a.sessionId}/messages/${onlyB.id}`),
        await get(`/api/v1/sessions/${a.sessionId}/messages/x1`),
        await get(`/api/v1/sessions/${b.sessionId}/messages/${onlyB.id}/media`),
      ];
      for (const response of messageNotFound) {
        expect(response.status).toBe(404);
        expect(response.text).toBe(messageNotFound[0].text);
      }
      // Another session of the same org: its chat is not this session's.
      const sibling = await app.createTenant(['read']);
      await app.dataSource.query(`UPDATE sessions SET org_id = $1 WHERE id = $2`, [a.orgId, sibling.sessionId]);
      expect((await get(`/api/v1/sessions/${sibling.sessionId}/chats/${chatA}/messages`)).text).toBe(notFound[0].text);
    });

    it('media: 404 without media, 409 while the session is not connected', async () => {
      const tenant = await app.createTenant(['read']);
      const phone = await BaileysPhone.create(syncSink(app), tenant.sessionId);
      await phone.message(pn(10), { id: 'T1', ts: T0, text: 'text only' });
      await phone.message(pn(10), { id: 'I1', ts: T0 + 1, content: { imageMessage: mediaFields('image/png') } });
      const [image, text] = await listAll(tenant, await chatId(tenant, pn(10)));
      const media = (id: number) => app.request(`/api/v1/sessions/${tenant.sessionId}/messages/${id}/media`, { token: tenant.apiKey });
      const none = await media(text.id);
      expect(none.status).toBe(404);
      const conflict = await media(image.id);
      expect(conflict.status).toBe(409);
      expect(conflict.body.error).toMatchObject({ code: 'conflict', message: expect.stringContaining('not connected') });
    });
  });
});
