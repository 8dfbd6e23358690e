import { MUTED_FOREVER } from '../../chats/chat-type';
import { statusRank } from '../../messages/message-type';
import type { BaileysEventBatch } from '../sync-event-sink';
import { APPLY_ORDER, eventsInApplyOrder, historySyncTypeName, mapBatch, MappingHelpers } from './event-mapping';
import type { SyncOp } from './sync-ops';

type Baileys = typeof import('baileys', { with: { 'resolution-mode': 'import' } });

const ALICE = '15551110001@s.whatsapp.net';
const ALICE_LID = '200000000000001@lid';
const GROUP = '120363000000000001@g.us';

describe('event mapping (Baileys events -> ops)', () => {
  let baileys: Baileys;
  let helpers: MappingHelpers;
  const map = (batch: Record<string, unknown>): SyncOp[] => mapBatch(batch, helpers);

  beforeAll(async () => {
    baileys = await import('baileys');
    helpers = { isRealMessage: baileys.isRealMessage };
  });

  function historyBatch(conversations: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
    const { proto, processHistoryMessage } = baileys;
    const encoded = proto.HistorySync.encode(
      proto.HistorySync.fromObject({ syncType: proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP, conversations, ...extra }),
    ).finish();
    return { 'messaging-history.set': { ...processHistoryMessage(proto.HistorySync.decode(encoded)), isLatest: true } };
  }

  describe('messaging-history.set', () => {
    it('maps each conversation to a snapshot of its state, in milliseconds, with its contact and LID pair', () => {
      const ops = map(
        historyBatch([
          {
            id: ALICE_LID,
            pnJid: ALICE,
            displayName: 'Alice',
            conversationTimestamp: 1_700_000_000,
            unreadCount: 3,
            pinned: 1_690_000_000,
            muteEndTime: 1_800_000_000,
            archived: true,
          },
        ]),
      );
      expect(ops).toEqual([
        { kind: 'link', lid: ALICE_LID, pn: ALICE },
        { kind: 'contact', jid: ALICE_LID, savedName: 'Alice' },
        {
          kind: 'chat',
          jid: ALICE_LID,
          type: 'dm',
          create: true,
          subject: 'Alice',
          activityAt: 1_700_000_000_000,
          snapshot: { at: 1_700_000_000_000, unread: 3, markedUnread: false, pinnedAt: 1_690_000_000_000, mutedUntil: 1_800_000_000_000, archived: true },
        },
        { kind: 'history', syncType: 'initial_bootstrap', progress: null, chats: 1 },
      ]);
    });

    it('takes the newest of the conversation and message timestamps; "muted forever" (uint64 -1) and "marked unread"', () => {
      const [chat] = map(
        historyBatch([
          {
            id: GROUP,
            name: 'Team',
            lastMsgTimestamp: 1_700_000_050,
            muteEndTime: -1,
            markedAsUnread: true,
            messages: [
              {
                message: {
                  key: { remoteJid: GROUP, id: 'M1', fromMe: false, participant: ALICE },
                  messageTimestamp: 1_700_000_060,
                  message: { conversation: 'hi' },
                },
              },
            ],
          },
        ]),
      ).filter((op) => op.kind === 'chat');
      expect(chat).toMatchObject({ jid: GROUP, type: 'group', subject: 'Team', activityAt: 1_700_000_060_000 });
      expect(chat).toMatchObject({ snapshot: { at: 1_700_000_060_000, unread: 0, markedUnread: true, mutedUntil: MUTED_FOREVER, pinnedAt: null } });
    });

    it('gives a push-name sync no chats, only names', () => {
      const { proto, processHistoryMessage } = baileys;
      const history = proto.HistorySync.fromObject({ syncType: proto.HistorySync.HistorySyncType.PUSH_NAME, pushnames: [{ id: ALICE, pushname: 'Ali' }] });
      const ops = map({ 'messaging-history.set': processHistoryMessage(history) });
      expect(ops).toEqual([
        { kind: 'contact', jid: ALICE, pushName: 'Ali' },
        { kind: 'history', syncType: 'push_name', progress: null, chats: 0 },
      ]);
    });

    it("keeps the chats of a set Baileys' buffer merged from several syncs, whose syncType is the last one's", () => {
      const batch = historyBatch([{ id: ALICE, conversationTimestamp: 1_700_000_000 }]);
      const merged = { 'messaging-history.set': { ...batch['messaging-history.set'], syncType: baileys.proto.HistorySync.HistorySyncType.PUSH_NAME } };
      expect(map(merged).filter((op) => op.kind === 'chat')).toHaveLength(1);
    });

    it('maps the same whether the payload holds live protobuf objects (Long) or its BufferJSON recording (strings)', () => {
      const batch = historyBatch([{ id: ALICE, name: 'Alice', conversationTimestamp: 1_700_000_000, unreadCount: 2, pinned: 1_690_000_000, muteEndTime: -1 }]);
      const recorded = JSON.parse(JSON.stringify(batch, baileys.BufferJSON.replacer), baileys.BufferJSON.reviver);
      expect(typeof (recorded['messaging-history.set'].chats[0] as { conversationTimestamp: unknown }).conversationTimestamp).toBe('string');
      expect(map(recorded)).toEqual(map(batch));
    });

    it('skips status@broadcast and JIDs that are not chats', () => {
      const ops = map(historyBatch([{ id: 'status@broadcast', conversationTimestamp: 1 }, { id: 'garbage' }]));
      expect(ops.filter((op) => op.kind === 'chat')).toEqual([]);
    });
  });

  describe('chats.update', () => {
    it('creates a DM it does not know, moves activity, counts the message that caused it', () => {
      const ops = map({
        'chats.update': [
          {
            id: ALICE,
            conversationTimestamp: 1_700_000_000,
            unreadCount: 1,
            messages: [{ message: { key: { remoteJid: ALICE, id: 'M1', fromMe: false }, messageTimestamp: 1_700_000_000, message: { conversation: 'hi' } } }],
          },
        ],
      });
      expect(ops).toEqual([
        { kind: 'chat', jid: ALICE, type: 'dm', create: true, activityAt: 1_700_000_000_000 },
        { kind: 'message', jid: ALICE, type: 'dm', id: 'M1', at: 1_700_000_000_000, unread: true },
      ]);
    });

    it('reads app-state unreadCount: 0 = read, -1 = marked unread, null = no change', () => {
      expect(map({ 'chats.update': [{ id: ALICE, unreadCount: 0 }] })).toEqual([{ kind: 'chat', jid: ALICE, type: 'dm', create: true, read: true }]);
      expect(map({ 'chats.update': [{ id: ALICE, unreadCount: -1 }] })).toEqual([{ kind: 'chat', jid: ALICE, type: 'dm', create: true, markedUnread: true }]);
      expect(map({ 'chats.update': [{ id: ALICE, unreadCount: null }] })).toEqual([]);
    });

    it('normalizes pinned, muteEndTime and archived, and keeps "clear" apart from "no change"', () => {
      expect(map({ 'chats.update': [{ id: ALICE, pinned: 1_719_662_400_123 }] })).toEqual([
        { kind: 'chat', jid: ALICE, type: 'dm', create: true, pinnedAt: 1_719_662_400_123 },
      ]);
      expect(map({ 'chats.update': [{ id: ALICE, pinned: null }] })).toEqual([{ kind: 'chat', jid: ALICE, type: 'dm', create: true, pinnedAt: null }]);
      expect(map({ 'chats.update': [{ id: ALICE, muteEndTime: 1_751_198_400 }] })[0]).toMatchObject({ mutedUntil: 1_751_198_400_000 });
      expect(map({ 'chats.update': [{ id: ALICE, muteEndTime: -1 }] })[0]).toMatchObject({ mutedUntil: MUTED_FOREVER });
      expect(map({ 'chats.update': [{ id: ALICE, muteEndTime: null }] })[0]).toMatchObject({ mutedUntil: null });
      expect(map({ 'chats.update': [{ id: ALICE, archived: false }] })[0]).toMatchObject({ archived: false });
      expect(map({ 'chats.update': [{ id: 'status@broadcast', archived: true }] })).toEqual([]);
    });
  });

  it('chats.upsert creates the chat even with nothing else to say; groups.* name groups', () => {
    expect(map({ 'chats.upsert': [{ id: GROUP, name: 'Team', conversationTimestamp: 1_700_000_000 }] })).toEqual([
      { kind: 'chat', jid: GROUP, type: 'group', create: true, subject: 'Team', activityAt: 1_700_000_000_000 },
    ]);
    expect(
      map({
        'groups.update': [
          { id: GROUP, subject: 'Team 2' },
          { id: GROUP, announce: true },
        ],
      }),
    ).toEqual([{ kind: 'chat', jid: GROUP, type: 'group', create: true, subject: 'Team 2' }]);
  });

  describe('messages.upsert', () => {
    const chatOps = (ops: SyncOp[]) => ops.filter((op) => op.kind !== 'stored-message');
    const message = (key: Record<string, unknown>, extra: Record<string, unknown> = { message: { conversation: 'hi' } }) => ({
      key: { id: 'M1', fromMe: false, ...key },
      messageTimestamp: 1_700_000_000,
      ...extra,
    });

    it('a real incoming message counts as unread, our own does not; stubs and protocol messages are not chat activity', () => {
      const ops = map({
        'messages.upsert': {
          type: 'notify',
          messages: [
            message({ remoteJid: ALICE }),
            message({ remoteJid: ALICE, id: 'M2', fromMe: true }),
            message(
              { remoteJid: GROUP, id: 'M3', participant: ALICE },
              { messageStubType: baileys.WAMessageStubType.GROUP_PARTICIPANT_ADD, messageStubParameters: ['{}'] },
            ),
            message({ remoteJid: ALICE, id: 'M4' }, { message: { protocolMessage: { type: 0 } } }),
            message({ remoteJid: 'status@broadcast', id: 'M5', participant: ALICE }),
          ],
        },
      });
      expect(chatOps(ops)).toEqual([
        { kind: 'message', jid: ALICE, type: 'dm', id: 'M1', at: 1_700_000_000_000, unread: true },
        { kind: 'message', jid: ALICE, type: 'dm', id: 'M2', at: 1_700_000_000_000, unread: false },
      ]);
      // The messages store keeps the three messages (the stub as a system message), after the chats' ops.
      expect(ops.slice(2).map((op) => op.kind === 'stored-message' && [op.waId, op.type])).toEqual([
        ['M1', 'text'],
        ['M2', 'text'],
        ['M3', 'system'],
      ]);
    });

    it('a message someone sent to a broadcast list belongs to the chat with the sender (Baileys getChatId)', () => {
      const ops = map({ 'messages.upsert': { type: 'notify', messages: [message({ remoteJid: '1700000000@broadcast', participant: ALICE })] } });
      expect(chatOps(ops)).toEqual([{ kind: 'message', jid: ALICE, type: 'dm', id: 'M1', at: 1_700_000_000_000, unread: true }]);
    });

    it("an own group message carries the furthest status of its receipts Baileys' buffer folded into it (userReceipt)", () => {
      const { PENDING, SERVER_ACK } = baileys.proto.WebMessageInfo.Status;
      const ops = map({
        'messages.upsert': {
          type: 'append',
          messages: [
            message(
              { remoteJid: GROUP, id: 'M1', fromMe: true },
              {
                message: { conversation: 'hi' },
                status: PENDING,
                userReceipt: [{ userJid: ALICE, receiptTimestamp: 1_700_000_001, readTimestamp: 1_700_000_002 }],
              },
            ),
            message({ remoteJid: GROUP, id: 'M2', fromMe: true }, { message: { conversation: 'hi' }, status: SERVER_ACK, userReceipt: [{ userJid: ALICE }] }),
          ],
        },
      });
      const statuses = ops.flatMap((op) => (op.kind === 'stored-message' ? [[op.waId, op.status]] : []));
      expect(statuses).toEqual([
        ['M1', statusRank('read')],
        ['M2', statusRank('sent')],
      ]);
    });

    it('learns LID pairs from message keys, before the message', () => {
      const ops = map({ 'messages.upsert': { type: 'notify', messages: [message({ remoteJid: `${ALICE_LID.split('@')[0]}:3@lid`, remoteJidAlt: ALICE })] } });
      expect(chatOps(ops)).toEqual([
        { kind: 'link', lid: ALICE_LID, pn: ALICE },
        { kind: 'message', jid: ALICE_LID, type: 'dm', id: 'M1', at: 1_700_000_000_000, unread: true },
      ]);
    });
  });

  it('contacts: saved name, push name, verified name, and the LID pair a contact reveals', () => {
    expect(
      map({
        'contacts.upsert': [{ id: ALICE_LID, phoneNumber: ALICE, name: 'Alice' }],
        'contacts.update': [
          { id: ALICE, notify: 'Ali', verifiedName: 'Alice Inc' },
          { id: ALICE, imgUrl: 'changed' },
        ],
      }),
    ).toEqual([
      { kind: 'link', lid: ALICE_LID, pn: ALICE },
      { kind: 'contact', jid: ALICE_LID, savedName: 'Alice' },
      { kind: 'contact', jid: ALICE, pushName: 'Ali', verifiedName: 'Alice Inc' },
    ]);
  });

  it('lid-mapping.update, chats.delete, messaging-history.status', () => {
    expect(map({ 'lid-mapping.update': { lid: ALICE_LID, pn: ALICE } })).toEqual([{ kind: 'link', lid: ALICE_LID, pn: ALICE }]);
    expect(map({ 'chats.delete': [ALICE, 'status@broadcast'] })).toEqual([{ kind: 'delete', jid: ALICE }]);
    expect(map({ 'messaging-history.status': { syncType: 3, status: 'complete', explicit: true } })).toEqual([
      { kind: 'history-status', syncType: 'recent', status: 'complete' },
    ]);
  });

  it('orders a batch: mappings and names first, deletions last; leaves other events out', () => {
    const batch = {
      'chats.delete': [ALICE],
      'messages.upsert': { messages: [], type: 'notify' },
      'creds.update': {},
      'lid-mapping.update': { lid: ALICE_LID, pn: ALICE },
      'connection.update': {},
    };
    expect(eventsInApplyOrder(batch as BaileysEventBatch).map(({ event }) => event)).toEqual(['lid-mapping.update', 'messages.upsert', 'chats.delete']);
    expect(APPLY_ORDER.indexOf('chats.delete')).toBeGreaterThan(APPLY_ORDER.indexOf('messages.upsert'));
    expect(APPLY_ORDER.indexOf('messages.upsert')).toBeGreaterThan(APPLY_ORDER.indexOf('messaging-history.set'));
  });

  it('never changes its input', () => {
    const batch = historyBatch([{ id: ALICE, name: 'Alice', conversationTimestamp: 1_700_000_000, unreadCount: 2 }]);
    const before = JSON.stringify(batch, baileys.BufferJSON.replacer);
    map(batch);
    map({ 'chats.update': [{ id: ALICE, unreadCount: 0 }] });
    expect(JSON.stringify(batch, baileys.BufferJSON.replacer)).toBe(before);
  });

  it('names history sync types', () => {
    expect(historySyncTypeName(0)).toBe('initial_bootstrap');
    expect(historySyncTypeName(6)).toBe('on_demand');
    expect(historySyncTypeName('RECENT')).toBe('recent');
    expect(historySyncTypeName('3')).toBe('recent');
    expect(historySyncTypeName(null)).toBeNull();
  });
});
