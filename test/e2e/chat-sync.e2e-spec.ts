import { MUTED_FOREVER } from '../../src/chats/chat-type';
import { ChatSyncService } from '../../src/whatsapp-sync/sync/chat-sync.service';
import { SyncStatusService } from '../../src/whatsapp-sync/sync/sync-status.service';
import { BaileysPhone, ConversationSeed } from '../support/baileys-phone';
import { comparable, listAllChats, listedChat, tenantWithPhone } from '../support/sync-helpers';
import { TestApp } from '../support/test-app';
import { group, lid, pn } from '../support/jids';

const T0 = 1_719_000_000; // seconds; the history's "now"

/**
 * The stored copy, driven through Baileys' own machinery (test/support/baileys-phone.ts) and
 * checked over HTTP with List chats, as a client sees it.
 */
describe("WhatsAppSync: the stored copy of a session's chats", () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await TestApp.start();
  });
  afterAll(async () => {
    await app.close();
  });

  const setup = () => tenantWithPhone(app);

  it('stores a first history sync of a few thousand chats, then keeps it current with live updates', async () => {
    const { tenant, phone } = await setup();
    const { HistorySyncType } = phone.proto.HistorySync;
    const conversation = (i: number): ConversationSeed => {
      const isGroup = i % 10 === 0;
      return {
        id: isGroup ? group(i) : pn(i),
        name: isGroup ? `Group ${i}` : undefined,
        displayName: isGroup ? undefined : `Person ${i}`,
        conversationTimestamp: T0 - i * 60,
        unreadCount: i % 7 === 0 ? i % 5 : 0,
        pinned: i === 42 ? T0 - 5 : undefined,
        archived: i % 97 === 0,
        muteEndTime: i % 13 === 0 ? T0 + 3600 : undefined,
        messages: [{ ts: T0 - i * 60, fromMe: i % 2 === 0, participant: isGroup ? pn(i + 1) : undefined }],
      };
    };
    // On a first connection the socket buffers everything until the initial sync is through:
    // history chunks, the initial app-state sync and offline messages arrive as one batch.
    phone.buffer();
    await phone.historySync({
      syncType: HistorySyncType.INITIAL_BOOTSTRAP,
      conversations: Array.from({ length: 1500 }, (_, i) => conversation(i + 1)),
      chunkOrder: 1,
      progress: 50,
    });
    await phone.historySync({
      syncType: HistorySyncType.RECENT,
      conversations: Array.from({ length: 1500 }, (_, i) => conversation(i + 1501)),
      chunkOrder: 2,
      progress: 100,
    });
    await phone.historySync({ syncType: HistorySyncType.PUSH_NAME, pushnames: [{ id: pn(3001), pushname: 'Newcomer' }] });
    await phone.appState({ pin: true }, pn(7), { initialSync: true });
    await phone.message(pn(3), { ts: T0 + 10, pushName: 'Person 3' }, 'append');
    await phone.flush();

    const chats = await listAllChats(app, tenant);
    expect(chats).toHaveLength(3000);
    expect(new Set(chats.map((chat) => chat.jid)).size).toBe(3000);
    expect(new Set(chats.map((chat) => chat.id)).size).toBe(3000);
    // Pinned first, most recently pinned first: the live pin (now) before the history pin (T0 - 5).
    expect(chats.slice(0, 2).map((chat) => chat.jid)).toEqual([pn(7), pn(42)]);
    // Then by last activity: the offline message made chat 3 the most recent.
    expect(chats[2]).toMatchObject({ jid: pn(3), lastMessageAt: (T0 + 10) * 1000, unreadCount: 1, name: 'Person 3' });
    const byJid = new Map(chats.map((chat) => [chat.jid, chat]));
    expect(byJid.get(group(70))).toMatchObject({ type: 'group', name: 'Group 70', unreadCount: 0, lastMessageAt: (T0 - 70 * 60) * 1000 });
    expect(byJid.get(pn(14))).toMatchObject({ type: 'dm', name: 'Person 14', unreadCount: 4 });
    expect(byJid.get(pn(97))).toMatchObject({ archived: true });
    expect(byJid.get(pn(13))).toMatchObject({ mutedUntil: (T0 + 3600) * 1000 });
    expect(byJid.get(pn(2999))).toMatchObject({ name: 'Person 2999', lastMessageAt: (T0 - 2999 * 60) * 1000 });

    const status = await app.app.get(SyncStatusService).statusOf(tenant.sessionId);
    expect(status.lastSyncAt).toBeInstanceOf(Date);
    // Baileys' buffer merged the three syncs into one set, with the last one's type and progress.
    expect(status.history).toMatchObject({ status: 'complete', syncType: 'push_name', chunks: 1, chats: 3000 });

    // Live, on top of the history: a message, a new DM, a read, an unpin.
    await phone.message(pn(501), { ts: T0 + 100, pushName: 'Person 501' });
    await phone.message(pn(5000), { ts: T0 + 200, pushName: 'Stranger' });
    await phone.appState({ markRead: true, lastMessages: [{ key: { remoteJid: pn(3), id: 'X', fromMe: false }, messageTimestamp: T0 + 10 }] }, pn(3));
    await phone.appState({ pin: false }, pn(42));
    const after = await listAllChats(app, tenant);
    expect(after).toHaveLength(3001);
    expect(after.slice(0, 4).map((chat) => [chat.jid, chat.pinned, chat.unreadCount])).toEqual([
      [pn(7), true, 2],
      [pn(5000), false, 1],
      [pn(501), false, 1],
      [pn(3), false, 0],
    ]);
    expect(after.find((chat) => chat.jid === pn(5000))).toMatchObject({ type: 'dm', name: 'Stranger', lastMessageAt: (T0 + 200) * 1000 });
    expect(after.find((chat) => chat.jid === pn(42))).toMatchObject({ pinned: false });
  });

  it('follows pin, unpin, mute, mute forever, unmute, archive, unarchive, mark read, mark unread and delete from the phone', async () => {
    const { tenant, phone } = await setup();
    const alice = pn(1);
    await phone.historySync({
      conversations: [
        { id: alice, displayName: 'Alice', conversationTimestamp: T0, unreadCount: 2, messages: [{ ts: T0 }] },
        { id: pn(2), conversationTimestamp: T0 + 5 },
      ],
    });
    const last = [{ key: { remoteJid: alice, id: 'LAST', fromMe: false }, messageTimestamp: T0 }];
    const alicesChat = () => listedChat(app, tenant, alice);
    await expect(alicesChat()).resolves.toMatchObject({ name: 'Alice', pinned: false, unreadCount: 2, mutedUntil: null, archived: false });
    const { id } = (await alicesChat())!;

    await phone.appState({ pin: true }, alice);
    await expect(alicesChat()).resolves.toMatchObject({ pinned: true });
    expect((await listAllChats(app, tenant))[0].jid).toBe(alice);
    await phone.appState({ pin: false }, alice);
    await expect(alicesChat()).resolves.toMatchObject({ pinned: false });
    expect((await listAllChats(app, tenant))[0].jid).toBe(pn(2));

    const eightHours = Date.now() + 8 * 3600_000;
    await phone.appState({ mute: eightHours }, alice);
    await expect(alicesChat()).resolves.toMatchObject({ mutedUntil: eightHours });
    await phone.appState({ mute: -1 }, alice);
    await expect(alicesChat()).resolves.toMatchObject({ mutedUntil: MUTED_FOREVER });
    await phone.appState({ mute: null }, alice);
    await expect(alicesChat()).resolves.toMatchObject({ mutedUntil: null });

    await phone.appState({ archive: true, lastMessages: last }, alice);
    await expect(alicesChat()).resolves.toMatchObject({ archived: true });
    await phone.appState({ archive: false, lastMessages: last }, alice);
    await expect(alicesChat()).resolves.toMatchObject({ archived: false });

    await phone.appState({ markRead: true, lastMessages: last }, alice);
    await expect(alicesChat()).resolves.toMatchObject({ unreadCount: 0 });
    await phone.appState({ markRead: false, lastMessages: last }, alice);
    await expect(alicesChat()).resolves.toMatchObject({ unreadCount: 1 });
    await phone.message(alice, { ts: T0 + 60 });
    await expect(alicesChat()).resolves.toMatchObject({ unreadCount: 1, lastMessageAt: (T0 + 60) * 1000 });
    await phone.message(alice, { ts: T0 + 61 });
    await expect(alicesChat()).resolves.toMatchObject({ unreadCount: 2 });
    await phone.appState({ markRead: true, lastMessages: last }, alice);
    await expect(alicesChat()).resolves.toMatchObject({ unreadCount: 0, id });

    await phone.appState({ delete: true, lastMessages: last }, alice);
    await expect(alicesChat()).resolves.toBeUndefined();
    // A late copy of older events does not bring it back ...
    await phone.historySync({
      syncType: phone.proto.HistorySync.HistorySyncType.RECENT,
      conversations: [{ id: alice, displayName: 'Alice', conversationTimestamp: T0, unreadCount: 2 }],
    });
    await phone.message(alice, { ts: T0 + 61 });
    await expect(alicesChat()).resolves.toBeUndefined();
    // ... a new message does, as a new chat.
    await phone.message(alice, { ts: T0 + 3600 });
    const revived = await alicesChat();
    expect(revived).toMatchObject({ unreadCount: 1, lastMessageAt: (T0 + 3600) * 1000, name: 'Alice', pinned: false });
    expect(revived!.id).not.toBe(id);
  });

  it('creates a DM from its first incoming message, and a group when it is created or renamed', async () => {
    const { tenant, phone } = await setup();
    await phone.message(pn(9), { ts: T0, pushName: 'Bob', text: 'hi, new here' });
    await expect(listedChat(app, tenant, pn(9))).resolves.toMatchObject({ type: 'dm', name: 'Bob', unreadCount: 1, lastMessageAt: T0 * 1000 });
    await phone.message(pn(9), { ts: T0 + 1, fromMe: true, text: 'welcome' });
    await expect(listedChat(app, tenant, pn(9))).resolves.toMatchObject({ unreadCount: 1, lastMessageAt: (T0 + 1) * 1000 });

    await phone.groupCreated(group(1), 'Launch', T0 + 10);
    await expect(listedChat(app, tenant, group(1))).resolves.toMatchObject({ type: 'group', name: 'Launch', unreadCount: 0, lastMessageAt: (T0 + 10) * 1000 });
    await phone.groupRenamed(group(1), 'Launch v2', T0 + 20);
    await expect(listedChat(app, tenant, group(1))).resolves.toMatchObject({ name: 'Launch v2' });
    await phone.message(group(1), { ts: T0 + 30, participant: pn(9), pushName: 'Bob' });
    await expect(listedChat(app, tenant, group(1))).resolves.toMatchObject({ name: 'Launch v2', unreadCount: 1, lastMessageAt: (T0 + 30) * 1000 });
    // A group the phone lists (groupFetchAllParticipating) is a chat too.
    await phone.emit('groups.update', [{ id: group(2), subject: 'Neighbours' }]);
    await expect(listedChat(app, tenant, group(2))).resolves.toMatchObject({ type: 'group', name: 'Neighbours', lastMessageAt: null });
    expect(await listAllChats(app, tenant)).toHaveLength(3);
  });

  it('knows broadcast lists and channels, and never lists status broadcasts', async () => {
    const { tenant, phone } = await setup();
    await phone.historySync({
      conversations: [
        { id: '1719000000@broadcast', name: 'Customers', conversationTimestamp: T0 },
        { id: '120363999999999999@newsletter', name: 'News', conversationTimestamp: T0 },
        { id: 'status@broadcast', conversationTimestamp: T0, unreadCount: 9 },
      ],
    });
    await phone.message('status@broadcast', { ts: T0 + 5, participant: pn(4), pushName: 'Dana' });
    // Someone's reply to a broadcast list we are on lands in the DM with them.
    await phone.message('1719000001@broadcast', { ts: T0 + 6, participant: pn(5), pushName: 'Eve' });
    const chats = await listAllChats(app, tenant);
    expect(chats.map((chat) => [chat.jid, chat.type, chat.name]).sort()).toEqual([
      ['120363999999999999@newsletter', 'newsletter', 'News'],
      [pn(5), 'dm', 'Eve'],
      ['1719000000@broadcast', 'broadcast', 'Customers'],
    ]);
  });

  describe('one person, one chat', () => {
    it('keeps a contact seen under @lid as one chat before and after its phone JID is known', async () => {
      const { tenant, phone } = await setup();
      await phone.message(lid(1), { ts: T0, pushName: 'Carol' });
      const before = await listAllChats(app, tenant);
      expect(before).toEqual([expect.objectContaining({ jid: lid(1), name: 'Carol', unreadCount: 1 })]);

      await phone.lidMapping(lid(1), pn(1));
      const mapped = await listAllChats(app, tenant);
      expect(mapped).toEqual([expect.objectContaining({ id: before[0].id, jid: pn(1), name: 'Carol', unreadCount: 1 })]);

      // Later events under either JID land in the same chat.
      await phone.message(pn(1), { ts: T0 + 1 });
      await phone.message(lid(1), { ts: T0 + 2 });
      await phone.historySync({
        syncType: phone.proto.HistorySync.HistorySyncType.RECENT,
        conversations: [{ id: lid(1), pnJid: pn(1), displayName: 'Carol', conversationTimestamp: T0 - 100, unreadCount: 1 }],
      });
      await phone.appState({ pin: true }, lid(1));
      const after = await listAllChats(app, tenant);
      // The history knew one unread message older than the three seen live: 4 unread.
      expect(after).toEqual([expect.objectContaining({ id: before[0].id, jid: pn(1), unreadCount: 4, pinned: true, lastMessageAt: (T0 + 2) * 1000 })]);
    });

    it('merges a @lid chat and a phone chat of the same person when WhatsApp reveals it: older id, combined state', async () => {
      const { tenant, phone } = await setup();
      await phone.message(pn(2), { ts: T0, pushName: 'Dave' });
      await phone.message(lid(2), { ts: T0 + 5 });
      await phone.appState({ archive: true, lastMessages: [{ key: { remoteJid: lid(2), id: 'L', fromMe: false }, messageTimestamp: T0 + 5 }] }, lid(2));
      const split = await listAllChats(app, tenant);
      expect(split.map((chat) => chat.jid).sort()).toEqual([pn(2), lid(2)].sort());
      const older = split.find((chat) => chat.jid === pn(2))!.id;

      // The phone's address book entry carries both JIDs: Baileys emits the contact and the mapping.
      await phone.appState({ contact: { fullName: 'Dave Smith', lidJid: lid(2) } }, pn(2));
      const merged = await listAllChats(app, tenant);
      expect(merged).toEqual([
        expect.objectContaining({ id: older, jid: pn(2), name: 'Dave Smith', unreadCount: 2, archived: true, lastMessageAt: (T0 + 5) * 1000 }),
      ]);
      // A duplicate of an already counted message under the other JID is not counted again.
      await phone.message(lid(2), { ts: T0 + 5, id: 'DUP1' });
      await phone.message(pn(2), { ts: T0 + 5, id: 'DUP1' });
      await expect(listAllChats(app, tenant)).resolves.toEqual([expect.objectContaining({ id: older, unreadCount: 3 })]);
    });
  });

  it('keeps two sessions of two orgs apart when they receive the same JIDs', async () => {
    const a = await setup();
    const b = await setup();
    const shared = [pn(1), group(1)];
    await a.phone.historySync({
      conversations: [
        { id: shared[0], displayName: 'Alice (A)', conversationTimestamp: T0, unreadCount: 1 },
        { id: shared[1], name: 'Group A', conversationTimestamp: T0 },
      ],
    });
    await b.phone.historySync({
      conversations: [
        { id: shared[0], displayName: 'Alice (B)', conversationTimestamp: T0 + 1, unreadCount: 5 },
        { id: shared[1], name: 'Group B', conversationTimestamp: T0 },
      ],
    });
    await a.phone.appState({ pin: true }, shared[0]);
    await a.phone.lidMapping(lid(1), pn(1));
    await b.phone.message(lid(1), { ts: T0 + 9 });
    await a.phone.appState(
      { delete: true, lastMessages: [{ key: { remoteJid: shared[1], id: 'G', fromMe: false, participant: pn(3) }, messageTimestamp: T0 }] },
      shared[1],
    );

    const chatsA = await listAllChats(app, a.tenant);
    const chatsB = await listAllChats(app, b.tenant);
    expect(chatsA.map((chat) => [chat.jid, chat.name, chat.pinned, chat.unreadCount])).toEqual([[pn(1), 'Alice (A)', true, 1]]);
    expect(chatsB.map((chat) => [chat.jid, chat.name, chat.pinned, chat.unreadCount]).sort()).toEqual(
      [
        [lid(1), null, false, 1],
        [group(1), 'Group B', false, 0],
        [pn(1), 'Alice (B)', false, 5],
      ].sort(),
    );
    expect(new Set([...chatsA, ...chatsB].map((chat) => chat.id)).size).toBe(chatsA.length + chatsB.length);
    const crossed = await app.request(`/api/v1/sessions/${a.tenant.sessionId}/chats`, { token: b.tenant.apiKey });
    expect(crossed.status).toBe(404);
  });

  it("stores the session's last sync time and history-sync progress", async () => {
    const { tenant, phone } = await setup();
    const status = () => app.app.get(SyncStatusService).statusOf(tenant.sessionId);
    await expect(status()).resolves.toEqual({
      lastSyncAt: null,
      eventsApplied: 0,
      history: { status: 'none', syncType: null, progress: null, chunks: 0, chats: 0, updatedAt: null },
    });
    const { RECENT } = phone.proto.HistorySync.HistorySyncType;
    await phone.historySync({
      syncType: RECENT,
      progress: 30,
      conversations: [
        { id: pn(1), conversationTimestamp: T0 },
        { id: pn(2), conversationTimestamp: T0 },
      ],
    });
    const running = await status();
    expect(running.history).toMatchObject({ status: 'running', syncType: 'recent', progress: 30, chunks: 1, chats: 2 });
    expect(running.lastSyncAt!.getTime()).toBeGreaterThan(Date.now() - 60_000);
    await phone.historySync({ syncType: RECENT, progress: 100, conversations: [{ id: pn(3), conversationTimestamp: T0 }] });
    await expect(status()).resolves.toMatchObject({ history: { status: 'complete', progress: 100, chunks: 2, chats: 3 } });
    expect((await status()).eventsApplied).toBeGreaterThan(2);
  });

  it('writes seeded chats through the same storage code as a history sync (applyHistoryBatch)', async () => {
    const tenant = await app.createTenant();
    await app.app.get(ChatSyncService).applyHistoryBatch(
      tenant.sessionId,
      [
        { id: pn(1), conversationTimestamp: T0, unreadCount: 2, pinned: T0 - 60 },
        { id: group(1), name: 'Seeded group', conversationTimestamp: T0 - 10, muteEndTime: -1, archived: true },
        { id: pn(2), conversationTimestamp: T0 - 20, markedAsUnread: true },
      ],
      [
        { id: pn(1), name: 'Seeded Alice' },
        { id: pn(2), notify: 'Bob (push)' },
      ],
    );
    await expect(listAllChats(app, tenant).then((chats) => chats.map(comparable))).resolves.toEqual([
      { jid: pn(1), type: 'dm', name: 'Seeded Alice', pinned: true, archived: false, mutedUntil: null, unreadCount: 2, lastMessageAt: T0 * 1000 },
      {
        jid: group(1),
        type: 'group',
        name: 'Seeded group',
        pinned: false,
        archived: true,
        mutedUntil: MUTED_FOREVER,
        unreadCount: 0,
        lastMessageAt: (T0 - 10) * 1000,
      },
      { jid: pn(2), type: 'dm', name: 'Bob (push)', pinned: false, archived: false, mutedUntil: null, unreadCount: 1, lastMessageAt: (T0 - 20) * 1000 },
    ]);
  });

  it('names each chat exactly as sync_display_name does, from the contacts of either JID, when created and when a contact changes', async () => {
    const tenant = await app.createTenant();
    const contacts = [
      { id: pn(1), name: 'Saved One', notify: 'Push One' },
      { id: lid(2), notify: 'Push Two' },
      { id: pn(3), verifiedName: 'Verified Three' },
      { id: pn(4), notify: 'Push Four' },
      { id: lid(5), name: 'Saved Five' },
      { id: pn(5), notify: 'Push Five' },
      { id: group(6), name: 'Saved group' },
    ];
    await app.app.get(ChatSyncService).applyHistoryBatch(
      tenant.sessionId,
      [
        { id: pn(1), name: 'Subject One', conversationTimestamp: T0 },
        { id: lid(2), pnJid: pn(2), conversationTimestamp: T0 },
        { id: pn(3), conversationTimestamp: T0 },
        { id: pn(4), name: 'Subject Four', conversationTimestamp: T0 },
        { id: pn(5), lidJid: lid(5), conversationTimestamp: T0 },
        { id: group(6), conversationTimestamp: T0 },
        { id: group(7), name: 'Group subject', conversationTimestamp: T0 },
        { id: pn(8), conversationTimestamp: T0 },
      ],
      contacts,
    );
    const names = async () => {
      const rows: { jid: string; name: string | null; expected: string | null }[] = await app.dataSource.query(
        'SELECT jid, name, sync_display_name(session_id, jid, alt_jid, type, subject) AS expected FROM chats WHERE session_id = $1 ORDER BY jid',
        [tenant.sessionId],
      );
      for (const row of rows) expect({ jid: row.jid, name: row.name }).toEqual({ jid: row.jid, name: row.expected });
      return Object.fromEntries(rows.map((row) => [row.jid, row.name]));
    };
    const created = {
      [pn(1)]: 'Saved One',
      [pn(2)]: 'Push Two',
      [pn(3)]: 'Verified Three',
      [pn(4)]: 'Subject Four',
      [pn(5)]: 'Saved Five',
      [group(6)]: 'Saved group',
      [group(7)]: 'Group subject',
      [pn(8)]: null,
    };
    await expect(names()).resolves.toEqual(created);

    // Contacts of existing chats change, under the chat's JID and under its alternate (LID) JID.
    await app.app.get(ChatSyncService).handle(tenant.sessionId, {
      'contacts.update': [
        { id: pn(4), name: 'Saved Four' },
        { id: lid(2), name: 'Saved Two' },
        { id: pn(8), notify: 'Push Eight' },
        { id: pn(9), name: 'No chat' },
      ],
    });
    await expect(names()).resolves.toEqual({ ...created, [pn(2)]: 'Saved Two', [pn(4)]: 'Saved Four', [pn(8)]: 'Push Eight' });
  });

  it('converges to the same copy when history and live events arrive twice, late, or out of order', async () => {
    const inOrder = await setup();
    const messy = await setup();
    const history = {
      conversations: [
        { id: pn(1), displayName: 'Alice', conversationTimestamp: T0, unreadCount: 2, messages: [{ id: 'H1', ts: T0 }] },
        { id: group(1), name: 'Team', conversationTimestamp: T0 - 50 },
      ],
    };
    const live = async (phone: BaileysPhone) => {
      await phone.message(pn(1), { id: 'L1', ts: T0 + 10 });
      await phone.message(group(1), { id: 'L2', ts: T0 + 20, participant: pn(2), pushName: 'Bob' });
    };
    await inOrder.phone.historySync(history);
    await live(inOrder.phone);

    await live(messy.phone); // live messages before the history that is older than them
    await messy.phone.historySync(history);
    await live(messy.phone); // delivered twice
    await messy.phone.message(pn(1), { id: 'H1', ts: T0 }); // a history message again, live
    await messy.phone.historySync(history); // the history replayed

    const expected = (await listAllChats(app, inOrder.tenant)).map(comparable);
    expect(expected).toEqual([
      expect.objectContaining({ jid: group(1), unreadCount: 1, lastMessageAt: (T0 + 20) * 1000 }),
      expect.objectContaining({ jid: pn(1), unreadCount: 3, lastMessageAt: (T0 + 10) * 1000 }),
    ]);
    expect((await listAllChats(app, messy.tenant)).map(comparable)).toEqual(expected);
  });
});
