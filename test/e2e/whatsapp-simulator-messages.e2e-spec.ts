import type { PhoneBook } from '../../src/simulator/phone-book';
import type { WhatsAppSimulator } from '../../src/simulator/whatsapp-simulator';
import { api, GatewayClient, listAllChats, SimulatedGateway } from '../support/simulated-whatsapp';
import { waitFor } from '../support/wait-for';

/** A first login generates and stores 812 pre-keys: slow on a loaded machine. */
const TEST_TIMEOUT_MS = 120_000;
const WAIT_MS = 60_000;
const ALICE = '14155550101@s.whatsapp.net';
const BOB = '14155550102@s.whatsapp.net';
const CHARLOTTE = '447700900123@s.whatsapp.net';
const SUPPORT = '120363041234567891@g.us';

/**
 * Messages (issue 16) through the unmodified Baileys socket and the WhatsApp simulator: the
 * messages a history sync carries, and live messages really encrypted with Signal (1:1 and
 * sender keys in a group), end in List messages with their type, text, sender and time.
 */
describe('messages through the WhatsApp simulator', () => {
  let world: SimulatedGateway;
  let simulator: WhatsAppSimulator;
  let gateway: GatewayClient;
  const now = Math.floor(Date.now() / 1000);
  let phone: string;

  const phoneBook: PhoneBook = {
    chats: [
      {
        jid: ALICE,
        name: 'Alice Johnson',
        lastMessageAt: now - 3300,
        unreadCount: 2,
        messages: [
          { id: '3EB0A1A1A1A1A1A1A1A101', timestamp: now - 3600, text: 'Lunch tomorrow?', pushName: 'Alice' },
          { id: '3EB0A1A1A1A1A1A1A1A102', timestamp: now - 3500, text: 'Sure, 12:30', fromMe: true },
          { id: '3EB0A1A1A1A1A1A1A1A103', timestamp: now - 3400, text: 'Great 👍', pushName: 'Alice' },
          {
            id: '3EB0A1A1A1A1A1A1A1A104',
            timestamp: now - 3300,
            message: { locationMessage: { degreesLatitude: 52.516275, degreesLongitude: 13.377704, name: 'Brandenburger Tor' } },
            pushName: 'Alice',
          },
        ],
      },
      {
        jid: SUPPORT,
        name: 'Support team',
        lastMessageAt: now - 7000,
        messages: [
          { id: '3EB0B2B2B2B2B2B2B2B201', timestamp: now - 7200, text: 'Deploy at 5', participant: CHARLOTTE, pushName: 'Charlotte' },
          { id: '3EB0B2B2B2B2B2B2B2B202', timestamp: now - 7100, text: 'ok', fromMe: true },
          {
            id: '3EB0B2B2B2B2B2B2B2B203',
            timestamp: now - 7000,
            participant: CHARLOTTE,
            pushName: 'Charlotte',
            message: { imageMessage: { mimetype: 'image/jpeg', caption: 'the deploy diagram', width: 1280, height: 960, fileLength: 48213 } },
          },
        ],
      },
      { jid: BOB, name: 'Bob', lastMessageAt: now - 86_400, messages: [] },
    ],
    contacts: [],
  };

  beforeAll(async () => {
    world = await SimulatedGateway.start({}, 15550000400);
    ({ simulator, gateway } = world);
  });
  afterAll(async () => {
    await world?.stop();
  });

  let sessionId: string;
  const chatIdOf = (jid: string) =>
    waitFor(async () => (await listAllChats(gateway, sessionId)).find((chat) => chat.jid === jid)?.id as number | undefined, WAIT_MS);
  const messagesOf = async (chatId: number) => {
    const page = await api(gateway, `/sessions/${sessionId}/chats/${chatId}/messages?limit=200`);
    expect(page.status).toBe(200);
    return (page.body.data as any[]).map(({ key, senderJid, pushName, timestamp, type, text }) => ({ key, senderJid, pushName, timestamp, type, text }));
  };
  const waitForMessages = (chatId: number, count: number) =>
    waitFor(async () => {
      const messages = await messagesOf(chatId);
      return messages.length >= count ? messages : undefined;
    }, WAIT_MS);

  it(
    'the history sync fills List messages: every message of each chat, newest first, with type, text, sender and time',
    async () => {
      ({ phone, sessionId } = await world.linkedPhone(phoneBook));

      const alice = await chatIdOf(ALICE);
      expect(await waitForMessages(alice, 4)).toEqual([
        {
          key: { remoteJid: ALICE, id: '3EB0A1A1A1A1A1A1A1A104', fromMe: false, participant: null },
          senderJid: ALICE,
          pushName: 'Alice',
          timestamp: (now - 3300) * 1000,
          type: 'location',
          text: 'Brandenburger Tor',
        },
        {
          key: { remoteJid: ALICE, id: '3EB0A1A1A1A1A1A1A1A103', fromMe: false, participant: null },
          senderJid: ALICE,
          pushName: 'Alice',
          timestamp: (now - 3400) * 1000,
          type: 'text',
          text: 'Great 👍',
        },
        {
          key: { remoteJid: ALICE, id: '3EB0A1A1A1A1A1A1A1A102', fromMe: true, participant: null },
          senderJid: null,
          pushName: null,
          timestamp: (now - 3500) * 1000,
          type: 'text',
          text: 'Sure, 12:30',
        },
        {
          key: { remoteJid: ALICE, id: '3EB0A1A1A1A1A1A1A1A101', fromMe: false, participant: null },
          senderJid: ALICE,
          pushName: 'Alice',
          timestamp: (now - 3600) * 1000,
          type: 'text',
          text: 'Lunch tomorrow?',
        },
      ]);
      const support = await chatIdOf(SUPPORT);
      expect(await waitForMessages(support, 3)).toEqual([
        {
          key: { remoteJid: SUPPORT, id: '3EB0B2B2B2B2B2B2B2B203', fromMe: false, participant: CHARLOTTE },
          senderJid: CHARLOTTE,
          pushName: 'Charlotte',
          timestamp: (now - 7000) * 1000,
          type: 'image',
          text: 'the deploy diagram',
        },
        {
          key: { remoteJid: SUPPORT, id: '3EB0B2B2B2B2B2B2B2B202', fromMe: true, participant: null },
          senderJid: null,
          pushName: null,
          timestamp: (now - 7100) * 1000,
          type: 'text',
          text: 'ok',
        },
        {
          key: { remoteJid: SUPPORT, id: '3EB0B2B2B2B2B2B2B2B201', fromMe: false, participant: CHARLOTTE },
          senderJid: CHARLOTTE,
          pushName: 'Charlotte',
          timestamp: (now - 7200) * 1000,
          type: 'text',
          text: 'Deploy at 5',
        },
      ]);
      expect(await messagesOf(await chatIdOf(BOB))).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'live messages from a contact (a text in a Signal pkmsg, then a contact card) and one in a group (skmsg) appear in List messages with type, text, sender, push name and time',
    async () => {
      expect(sessionId).toBeDefined();
      const sentAt = now + 5;
      const id = await simulator.sendMessage({ to: phone, from: BOB, text: 'are you there?', pushName: 'Bobby', timestamp: sentAt });
      const bob = await chatIdOf(BOB);
      expect(await waitForMessages(bob, 1)).toEqual([
        {
          key: { remoteJid: BOB, id, fromMe: false, participant: null },
          senderJid: BOB,
          pushName: 'Bobby',
          timestamp: sentAt * 1000,
          type: 'text',
          text: 'are you there?',
        },
      ]);

      const cardAt = sentAt + 1;
      const card = await simulator.sendMessage({
        to: phone,
        from: BOB,
        message: {
          contactMessage: { displayName: 'Dr. Eve', vcard: 'BEGIN:VCARD\nVERSION:3.0\nFN:Dr. Eve\nTEL;waid=6281234567891:+6281234567891\nEND:VCARD' },
        },
        pushName: 'Bobby',
        timestamp: cardAt,
      });
      expect((await waitForMessages(bob, 2))[0]).toEqual({
        key: { remoteJid: BOB, id: card, fromMe: false, participant: null },
        senderJid: BOB,
        pushName: 'Bobby',
        timestamp: cardAt * 1000,
        type: 'contact',
        text: 'Dr. Eve',
      });

      const groupId = await simulator.sendMessage({
        to: phone,
        from: CHARLOTTE,
        group: SUPPORT,
        text: 'standup in 5',
        pushName: 'Charlotte',
        timestamp: sentAt + 2,
      });
      const support = await chatIdOf(SUPPORT);
      const [newest] = await waitForMessages(support, 4);
      expect(newest).toEqual({
        key: { remoteJid: SUPPORT, id: groupId, fromMe: false, participant: CHARLOTTE },
        senderJid: CHARLOTTE,
        pushName: 'Charlotte',
        timestamp: (sentAt + 2) * 1000,
        type: 'text',
        text: 'standup in 5',
      });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a message the device cannot decrypt is asked for again (retry receipt), resent by the contact, and stored once with its text',
    async () => {
      expect(sessionId).toBeDefined();
      const retries: { device: string; id: string }[] = [];
      simulator.on('retry', (retry) => retries.push(retry));
      try {
        const sentAt = now + 10;
        const id = await simulator.sendMessage({
          to: phone,
          from: BOB,
          text: 'did this arrive?',
          pushName: 'Bobby',
          timestamp: sentAt,
          undecryptableFirstCopy: true,
        });
        const bob = await chatIdOf(BOB);
        const stored = await waitFor(async () => {
          const messages = await messagesOf(bob);
          return messages.find((message) => message.key.id === id && message.text !== null);
        }, WAIT_MS);
        expect(stored).toEqual({
          key: { remoteJid: BOB, id, fromMe: false, participant: null },
          senderJid: BOB,
          pushName: 'Bobby',
          timestamp: sentAt * 1000,
          type: 'text',
          text: 'did this arrive?',
        });
        expect(retries).toEqual([{ device: expect.stringMatching(new RegExp(`^${phone}:\\d+@s\\.whatsapp\\.net$`)), id }]);
        expect((await messagesOf(bob)).filter((message) => message.key.id === id)).toHaveLength(1);
      } finally {
        simulator.removeAllListeners('retry');
      }
    },
    TEST_TIMEOUT_MS,
  );
});
