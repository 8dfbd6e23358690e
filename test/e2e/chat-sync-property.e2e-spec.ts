import fc from 'fast-check';
import type { BaileysEventBatch } from '../../src/whatsapp-sync/sync-event-sink';
import { BaileysPhone, ConversationSeed } from '../support/baileys-phone';
import { comparable, listAllChats, ListedChat, syncSink } from '../support/sync-helpers';
import { TestApp } from '../support/test-app';

const T0 = 1_719_000_000;
const NAMES = ['Ann', 'Ben', 'Cleo', 'Dev', 'Eli', 'Fay'];

interface Person {
  addressing: 'pn' | 'lid' | 'both';
  reveal: boolean;
  savedName: string | null;
  history: {
    unread: number;
    ageMin: number;
    pinned: boolean;
    muted: 'none' | 'forever' | 'until';
    archived: boolean;
    marked: boolean;
    underLid: boolean;
  } | null;
  live: { incoming: boolean; offset: number; viaLid: boolean }[];
  overlap: boolean;
  appState: { pin: boolean; mute: 'none' | 'forever' | 'until' | 'unmute'; archive: boolean | null; markUnread: boolean; viaLid: boolean };
}

interface Group {
  history: { unread: number; ageMin: number; archived: boolean } | null;
  messages: { from: number; offset: number }[];
  rename: boolean;
}

const personArb: fc.Arbitrary<Person> = fc.record({
  addressing: fc.constantFrom('pn', 'lid', 'both'),
  reveal: fc.boolean(),
  savedName: fc.option(fc.constantFrom(...NAMES), { nil: null }),
  history: fc.option(
    fc.record({
      unread: fc.nat(4),
      ageMin: fc.integer({ min: 1, max: 500 }),
      pinned: fc.boolean(),
      muted: fc.constantFrom('none', 'forever', 'until'),
      archived: fc.boolean(),
      marked: fc.boolean(),
      underLid: fc.boolean(),
    }),
    { nil: null },
  ),
  live: fc.array(fc.record({ incoming: fc.boolean(), offset: fc.integer({ min: 1, max: 900 }), viaLid: fc.boolean() }), { maxLength: 4 }),
  overlap: fc.boolean(),
  appState: fc.record({
    pin: fc.boolean(),
    mute: fc.constantFrom('none', 'forever', 'until', 'unmute'),
    archive: fc.option(fc.boolean(), { nil: null }),
    markUnread: fc.boolean(),
    viaLid: fc.boolean(),
  }),
});

const groupArb: fc.Arbitrary<Group> = fc.record({
  history: fc.option(fc.record({ unread: fc.nat(3), ageMin: fc.integer({ min: 1, max: 500 }), archived: fc.boolean() }), { nil: null }),
  messages: fc.array(fc.record({ from: fc.nat(5), offset: fc.integer({ min: 1, max: 900 }) }), { maxLength: 3 }),
  rename: fc.boolean(),
});

const worldArb = fc.record({
  persons: fc.array(personArb, { minLength: 1, maxLength: 4 }),
  groups: fc.array(groupArb, { maxLength: 2 }),
  historyChunks: fc.integer({ min: 1, max: 2 }),
});
type World = typeof worldArb extends fc.Arbitrary<infer W> ? W : never;

const pn = (i: number) => `1555888${String(i).padStart(4, '0')}@s.whatsapp.net`;
const lid = (i: number) => `288800000${String(i).padStart(6, '0')}@lid`;
const groupJid = (i: number) => `120363888${String(i).padStart(9, '0')}@g.us`;
const jidOf = (person: Person, i: number, viaLid: boolean) => (person.addressing === 'pn' || (person.addressing === 'both' && !viaLid) ? pn(i) : lid(i));
const lastMessages = (jid: string) => [{ key: { remoteJid: jid, id: 'ANY', fromMe: false }, messageTimestamp: T0 }];

/**
 * The world's events as Baileys produces them: each step drives the phone, and every batch the
 * buffer releases is captured. The steps are chosen so that their true outcome does not depend on
 * the order WhatsApp delivers them in: one history snapshot per chat, messages with distinct ids,
 * one value per person for each app-state field and name. (A "read" or a deletion is a statement
 * about the messages seen before it, so its order matters; the example-based tests cover those.)
 */
async function captureBatches(world: World): Promise<BaileysEventBatch[]> {
  const batches: BaileysEventBatch[] = [];
  const phone = await BaileysPhone.create({ handle: async (_id, batch) => void batches.push(batch) }, 'capture');
  const conversations: ConversationSeed[] = [];
  const steps: (() => Promise<void>)[] = [];

  world.persons.forEach((person, i) => {
    if (person.history) {
      const h = person.history;
      const at = T0 - h.ageMin * 60;
      const id = h.underLid && person.addressing !== 'pn' ? lid(i) : pn(i);
      conversations.push({
        id,
        displayName: person.savedName ?? undefined,
        pnJid: person.reveal && id === lid(i) ? pn(i) : undefined,
        lidJid: person.reveal && id === pn(i) ? lid(i) : undefined,
        conversationTimestamp: at,
        unreadCount: h.unread,
        markedAsUnread: h.marked,
        pinned: h.pinned ? at - 3600 : undefined,
        muteEndTime: h.muted === 'forever' ? -1 : h.muted === 'until' ? T0 + 7200 : undefined,
        archived: h.archived,
        messages: [{ id: `H-${i}`, ts: at }],
      });
      if (person.overlap) steps.push(() => phone.message(id, { id: `H-${i}`, ts: at, pushName: NAMES[i] }).then(() => undefined));
    }
    person.live.forEach((message, k) =>
      steps.push(() =>
        phone
          .message(jidOf(person, i, message.viaLid), {
            id: `L-${i}-${k}`,
            ts: T0 + message.offset,
            fromMe: !message.incoming,
            pushName: message.incoming ? NAMES[i] : undefined,
          })
          .then(() => undefined),
      ),
    );
    const target = jidOf(person, i, person.appState.viaLid);
    const a = person.appState;
    if (a.pin) steps.push(() => phone.appState({ pin: true }, target));
    if (a.mute !== 'none') steps.push(() => phone.appState({ mute: a.mute === 'forever' ? -1 : a.mute === 'until' ? (T0 + 3600) * 1000 : null }, target));
    if (a.archive !== null) steps.push(() => phone.appState({ archive: a.archive, lastMessages: lastMessages(target) }, target));
    if (a.markUnread) steps.push(() => phone.appState({ markRead: false, lastMessages: lastMessages(target) }, target));
    if (person.reveal) {
      steps.push(() =>
        person.savedName ? phone.appState({ contact: { fullName: person.savedName, lidJid: lid(i) } }, pn(i)) : phone.lidMapping(lid(i), pn(i)),
      );
    } else if (person.savedName) {
      steps.push(() => phone.appState({ contact: { fullName: person.savedName } }, jidOf(person, i, false)));
    }
  });
  world.groups.forEach((group, g) => {
    if (group.history) {
      const at = T0 - group.history.ageMin * 60;
      conversations.push({
        id: groupJid(g),
        name: `Group ${g}`,
        conversationTimestamp: at,
        unreadCount: group.history.unread,
        archived: group.history.archived,
      });
    }
    group.messages.forEach((message, k) =>
      steps.push(() =>
        phone
          .message(groupJid(g), { id: `G-${g}-${k}`, ts: T0 + message.offset, participant: pn(message.from), pushName: NAMES[message.from] })
          .then(() => undefined),
      ),
    );
    if (group.rename) steps.push(() => phone.groupRenamed(groupJid(g), `Group ${g} (renamed)`, T0 + 950));
  });

  const size = Math.ceil(conversations.length / world.historyChunks);
  for (let c = 0; c < conversations.length; c += size) {
    const chunk = conversations.slice(c, c + size);
    steps.unshift(() => phone.historySync({ syncType: phone.proto.HistorySync.HistorySyncType.RECENT, conversations: chunk }));
  }
  for (const step of steps) await step();
  return batches;
}

/** What the model says about the chat of a person whose two JIDs WhatsApp revealed. */
function expectedOfRevealed(person: Person): { unreadCount: number; lastMessageAt: number | null; pinned: boolean } {
  const at = person.history ? (T0 - person.history.ageMin * 60) * 1000 : null;
  const live = person.live.map((m) => (T0 + m.offset) * 1000);
  const times = [...(at === null ? [] : [at]), ...live];
  const count = (person.history?.unread ?? 0) + person.live.filter((m) => m.incoming).length;
  const marked = person.appState.markUnread || (person.history?.marked ?? false);
  return {
    unreadCount: marked ? Math.max(count, 1) : count,
    lastMessageAt: times.length > 0 ? Math.max(...times) : null,
    pinned: person.appState.pin || (person.history?.pinned ?? false),
  };
}

describe('convergence (property): shuffled, duplicated and replayed events give the same copy', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await TestApp.start();
  });
  afterAll(async () => {
    await app.close();
  });

  it('equals in-order, exactly-once delivery', async () => {
    await fc.assert(
      fc
        .asyncProperty(
          worldArb,
          fc.infiniteStream(fc.nat(1000)).map((s) => s),
          fc.infiniteStream(fc.boolean()),
          async (world, shuffleKeys, duplicate) => {
            const batches = await captureBatches(world);
            const inOrder = await app.createTenant();
            const messy = await app.createTenant();
            const sink = syncSink(app);
            for (const batch of batches) await sink.handle(inOrder.sessionId, batch);

            // Shuffle, deliver some batches twice (as a copy), then replay everything in order.
            const keys = shuffleKeys.take(batches.length)[Symbol.iterator]();
            const twice = duplicate.take(batches.length)[Symbol.iterator]();
            const delivery = batches.flatMap((batch) => (twice.next().value ? [batch, structuredClone(batch)] : [batch]));
            const order = delivery.map((batch) => ({ batch, key: keys.next().value ?? 0 })).sort((x, y) => x.key - y.key);
            for (const { batch } of order) await sink.handle(messy.sessionId, batch);
            for (const batch of batches) await sink.handle(messy.sessionId, structuredClone(batch));

            // Compared by JID: chats tied on (pin, last activity) are ordered by id, which follows creation order.
            const byJidOrder = (chats: ListedChat[]) => chats.map(comparable).sort((x, y) => x.jid.localeCompare(y.jid));
            const expected = await listAllChats(app, inOrder);
            const actual = await listAllChats(app, messy);
            expect(byJidOrder(actual)).toEqual(byJidOrder(expected));

            // And the in-order copy is the one the model predicts: one chat per revealed person.
            const byJid = new Map<string, ListedChat>(expected.map((chat) => [chat.jid, chat]));
            world.persons.forEach((person, i) => {
              if (!person.reveal) return;
              expect(byJid.has(lid(i))).toBe(false);
              const chat = byJid.get(pn(i));
              if (!chat) return; // only contact events: no chat
              expect({ unreadCount: chat.unreadCount, lastMessageAt: chat.lastMessageAt, pinned: chat.pinned }).toEqual(expectedOfRevealed(person));
            });
          },
        )
        .beforeEach(() => undefined),
      { numRuns: Number(process.env.SYNC_PROPERTY_RUNS ?? 12), endOnFailure: true },
    );
    // Each run applies a few hundred events through the sync and reads the copy back: about 1 s
    // alone, several on a loaded machine.
  }, 240_000);
});
