import type { PhoneBook } from '../../src/simulator/phone-book';
import type { WhatsAppSimulator } from '../../src/simulator/whatsapp-simulator';
import {
  api,
  expectedChats,
  GatewayClient,
  listAllChats,
  settledChats,
  SimulatedGateway,
  SIMULATOR_WAIT_MS,
  waitForStatus,
} from '../support/simulated-whatsapp';
import { waitFor } from '../support/wait-for';

// Generous: linking and a history sync take a few seconds alone and much longer on a loaded machine; every wait inside polls for its condition.
const TEST_TIMEOUT_MS = 240_000;

/**
 * The path a real user takes, through the unmodified Baileys socket and the WhatsApp simulator
 * (src/simulator): linking, history, live messages (Signal-encrypted), app-state patches,
 * reconnects and unlinking. Each test links its own phone number to its own session.
 */
describe('a phone linked through the WhatsApp simulator', () => {
  let world: SimulatedGateway;
  let simulator: WhatsAppSimulator;
  let gateway: GatewayClient;

  beforeAll(async () => {
    world = await SimulatedGateway.start();
    ({ simulator, gateway } = world);
  });
  afterAll(async () => {
    await world?.stop();
  });

  const newPhone = (phoneBook?: PhoneBook) => world.newPhone(phoneBook);

  /** A linked phone whose history List chats shows exactly. */
  async function linkedPhone() {
    const linked = await world.linkedPhone();
    const expected = expectedChats(linked.phoneBook);
    expect(await settledChats(gateway, linked.sessionId, expected)).toEqual(expected);
    return linked;
  }

  const chatOf = async (sessionId: string, jid: string) => (await listAllChats(gateway, sessionId)).find((chat) => chat.jid === jid);

  it(
    'QR: create -> qr_required -> scan -> connected, and the phone history appears in List chats exactly',
    async () => {
      const { phone, sessionId, device } = await linkedPhone();
      expect(device).toMatch(new RegExp(`^${phone}:\\d+@s\\.whatsapp\\.net$`));
      const detail = await api(gateway, `/sessions/${sessionId}`);
      expect(detail.body).toMatchObject({ status: 'connected', phoneJid: `${phone}@s.whatsapp.net` });
      expect(simulator.devices(phone)).toEqual([expect.objectContaining({ jid: device, connections: 1, logins: 1, overlaps: 0, maxConnections: 1 })]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'pairing code: the code the gateway returns, typed into the phone, links it with the same result',
    async () => {
      const { phone, phoneBook, sessionId } = await newPhone();
      await waitForStatus(gateway, sessionId, 'qr_required');
      const requested = await api(gateway, `/sessions/${sessionId}/pairing-code`, { method: 'POST', body: { phoneNumber: phone } });
      expect(requested.status).toBe(200);
      expect(requested.body.pairingCode).toMatch(/^[A-Z0-9]{8}$/);
      // The companion's request reaches the simulator just after the gateway answers.
      await waitFor(() =>
        simulator.typePairingCode(phone, requested.body.pairingCode).then(
          () => true,
          () => false,
        ),
      );
      await waitForStatus(gateway, sessionId, 'connected');
      const expected = expectedChats(phoneBook);
      expect(await settledChats(gateway, sessionId, expected)).toEqual(expected);
      expect(simulator.devices(phone)).toEqual([expect.objectContaining({ connections: 1, overlaps: 0 })]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'live: a contact writes (the chat moves up, unread +1), a group is created and renamed, the phone pins, archives and mutes',
    async () => {
      const { phone, sessionId } = await linkedPhone();
      const bob = '14155550102@s.whatsapp.net';
      const before = await chatOf(sessionId, bob);
      const sentAt = Math.floor(Date.now() / 1000) + 1;
      await simulator.sendMessage({ to: phone, from: bob, text: 'are you there?', pushName: 'Bob', timestamp: sentAt });
      const moved = await waitFor(async () => {
        const chats = await listAllChats(gateway, sessionId);
        const unpinned = chats.filter((chat) => !chat.pinned);
        return unpinned[0]?.jid === bob && unpinned[0].unreadCount === before.unreadCount + 1 ? unpinned[0] : undefined;
      });
      expect(moved.lastMessageAt).toBe(sentAt * 1000);

      // A group message: a sender-key message with its distribution message in the same stanza.
      const support = '120363041234567891@g.us';
      const supportBefore = await chatOf(sessionId, support);
      await simulator.sendMessage({ to: phone, from: '447700900123', group: support, text: 'standup in 5', pushName: 'Charlotte', timestamp: sentAt + 1 });
      await waitFor(async () => (await chatOf(sessionId, support))?.unreadCount === supportBefore.unreadCount + 1);

      const group = await simulator.createGroup(phone, { subject: 'Launch plan', creator: '14155550101' });
      await waitFor(async () => (await chatOf(sessionId, group))?.name === 'Launch plan');
      await simulator.renameGroup(phone, group, 'Launch plan (final)', '14155550101');
      await waitFor(async () => (await chatOf(sessionId, group))?.name === 'Launch plan (final)');

      const charlotte = '447700900123@s.whatsapp.net';
      await simulator.changeAppState(phone, { action: 'pin', jid: charlotte, value: true });
      await waitFor(async () => (await listAllChats(gateway, sessionId))[0]?.jid === charlotte);
      const fleur = '33612345678@s.whatsapp.net';
      await simulator.changeAppState(phone, { action: 'archive', jid: fleur, value: true });
      await waitFor(async () => (await chatOf(sessionId, fleur))?.archived === true);
      const alice = '6281234567890@s.whatsapp.net';
      await simulator.changeAppState(phone, { action: 'mute', jid: alice, value: true, muteEndTime: -1 });
      await waitFor(async () => (await chatOf(sessionId, alice))?.mutedUntil === 253_402_300_799_000);
      await simulator.changeAppState(phone, { action: 'markRead', jid: bob, value: true });
      await waitFor(async () => (await chatOf(sessionId, bob))?.unreadCount === 0);
      await simulator.changeAppState(phone, { action: 'delete', jid: fleur });
      await waitFor(async () => (await chatOf(sessionId, fleur)) === undefined);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'the simulator drops the socket: the gateway logs in again without a QR, and a message sent meanwhile decrypts after',
    async () => {
      const { phone, sessionId, device } = await linkedPhone();
      const qrs: string[] = [];
      simulator.on('qr', (ref: string) => qrs.push(ref));
      const retries: unknown[] = [];
      simulator.on('retry', (retry) => retries.push(retry));
      try {
        expect(simulator.dropConnection(device)).toBe(1);
        const sentAt = Math.floor(Date.now() / 1000) + 2;
        const id = await simulator.sendMessage({ to: phone, from: '14155550101', text: 'sent while you were away', timestamp: sentAt });
        expect(simulator.devices(phone)[0].pendingStanzas).toBe(1);
        await waitFor(() => simulator.receiptsOf(device).has(id), SIMULATOR_WAIT_MS);
        await waitFor(async () => (await chatOf(sessionId, '14155550101@s.whatsapp.net'))?.lastMessageAt === sentAt * 1000);
        expect(simulator.devices(phone)).toEqual([expect.objectContaining({ logins: 2, connections: 1, overlaps: 0, pendingStanzas: 0 })]);
        expect(qrs).toEqual([]);
        expect(retries).toEqual([]);
        expect(await api(gateway, `/sessions/${sessionId}`)).toMatchObject({ body: { status: 'connected' } });
      } finally {
        simulator.removeAllListeners('qr');
        simulator.removeAllListeners('retry');
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'the phone unlinks the device: logged_out, credentials wiped, and a later start asks for a QR',
    async () => {
      const { phone, sessionId, device } = await linkedPhone();
      await simulator.removeDevice(device);
      await waitForStatus(gateway, sessionId, 'logged_out');
      const detail = await api(gateway, `/sessions/${sessionId}`);
      expect(detail.body).toMatchObject({ status: 'logged_out', phoneJid: null });
      const [{ count }] = await world.app.dataSource.query('SELECT count(*)::int AS count FROM session_auth_creds WHERE session_id = $1', [sessionId]);
      expect(count).toBe(0);
      expect(simulator.devices(phone)).toEqual([expect.objectContaining({ removed: true, connections: 0 })]);

      expect((await api(gateway, `/sessions/${sessionId}/start`, { method: 'POST' })).status).toBe(200);
      await waitForStatus(gateway, sessionId, 'qr_required');
    },
    TEST_TIMEOUT_MS,
  );
});
