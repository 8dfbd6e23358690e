import { listAllChats, tenantWithPhone } from '../support/sync-helpers';
import { TestApp } from '../support/test-app';
import { group, pn } from '../support/jids';

const T0 = 1_719_000_000; // seconds

/**
 * Values from WhatsApp are hostile input: any WhatsApp user picks their push name, any group
 * member a subject. PostgreSQL refuses NUL and unpaired surrogates in text and json (22P05); one
 * such name used to fail its batch's transaction, and after the retries the whole batch (up to a
 * history chunk of thousands of chats) was dropped. Driven through Baileys' own machinery and the
 * real database, checked over HTTP.
 */
describe('WhatsAppSync: names PostgreSQL cannot store are cleaned where they enter', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await TestApp.start();
  });
  afterAll(async () => {
    await app.close();
  });

  const setup = () => tenantWithPhone(app);

  it('a history chunk with a NUL in some names stores every chat, the names cleaned', async () => {
    const { tenant, phone } = await setup();
    const conversations = Array.from({ length: 300 }, (_, i) => ({
      id: i % 10 === 0 ? group(i) : pn(i),
      name: i % 10 === 0 ? `Group ${i}` : undefined,
      displayName: i % 10 === 0 ? undefined : `Person ${i}`,
      conversationTimestamp: T0 - i * 60,
    }));
    conversations[17].displayName = 'Mal\u0000lory';
    conversations[40].name = 'Team\u0000 chat';
    await phone.historySync({
      conversations,
      pushnames: [
        { id: pn(3), pushname: '\u0000' },
        { id: pn(4), pushname: 'Zoe\u0000\u0000' },
      ],
      progress: 100,
    });
    await phone.settle();

    const chats = await listAllChats(app, tenant);
    expect(chats).toHaveLength(300);
    const byJid = new Map(chats.map((chat) => [chat.jid, chat]));
    expect(byJid.get(pn(17))?.name).toBe('Mallory');
    expect(byJid.get(group(40))?.name).toBe('Team chat');
    expect(byJid.get(pn(3))?.name).toBe('Person 3');
    expect(byJid.get(pn(5))?.name).toBe('Person 5');
  });

  it('live events: a push name, a group subject and a message id with NUL are stored cleaned, next to normal ones', async () => {
    const { tenant, phone } = await setup();
    await phone.message(pn(1), { ts: T0, pushName: 'Eve\u0000il' });
    await phone.message(pn(2), { ts: T0 + 1, pushName: 'Bob', id: 'ABC\u0000DEF' });
    await phone.groupCreated(group(1), 'Sub\u0000ject', T0 + 2);
    await phone.settle();

    const chats = await listAllChats(app, tenant);
    const byJid = new Map(chats.map((chat) => [chat.jid, chat]));
    expect(byJid.get(pn(1))).toMatchObject({ name: 'Eveil', unreadCount: 1 });
    expect(byJid.get(pn(2))).toMatchObject({ name: 'Bob', unreadCount: 1 });
    expect(byJid.get(group(1))).toMatchObject({ name: 'Subject' });
  });

  it('names with half a surrogate pair (events decoded from JSON, e.g. a replayed recording) keep the rest of the name', async () => {
    const { tenant, phone } = await setup();
    // Protobuf decoding turns a lone surrogate into U+FFFD; events from JSON keep it as it is.
    await phone.emit('chats.upsert', [
      { id: group(7), name: 'Team \ud83d chat', conversationTimestamp: T0 },
      { id: pn(8), conversationTimestamp: T0 },
    ]);
    await phone.emit('contacts.upsert', [{ id: pn(8), notify: 'Emoji 😀 ok \udc00' }]);
    await phone.settle();
    const byJid = new Map((await listAllChats(app, tenant)).map((chat) => [chat.jid, chat]));
    expect(byJid.get(group(7))?.name).toBe('Team  chat');
    expect(byJid.get(pn(8))?.name).toBe('Emoji 😀 ok ');
  });

  it('a JID with a NUL is no JID: its chat is left out, the rest of the batch is stored', async () => {
    const { tenant, phone } = await setup();
    await phone.historySync({
      conversations: [
        { id: pn(1), displayName: 'Alice', conversationTimestamp: T0 },
        { id: `1555\u00001@s.whatsapp.net`, displayName: 'Ghost', conversationTimestamp: T0 },
        { id: pn(2), displayName: 'Bob', conversationTimestamp: T0 },
      ],
      progress: 100,
    });
    await phone.settle();
    const chats = await listAllChats(app, tenant);
    expect(chats.map((chat) => chat.name).sort()).toEqual(['Alice', 'Bob']);
  });
});
