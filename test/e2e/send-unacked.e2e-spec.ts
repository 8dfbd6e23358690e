import type { WhatsAppSimulator } from '../../src/simulator/whatsapp-simulator';
import { api, GatewayClient, SimulatedGateway } from '../support/simulated-whatsapp';
import { waitFor } from '../support/wait-for';

/** A first login generates and stores 812 pre-keys: slow on a loaded machine. */
const TEST_TIMEOUT_MS = 120_000;
const WAIT_MS = 60_000;
const BOB = '14155550102@s.whatsapp.net';
const CAROL = '14155550103@s.whatsapp.net';

/**
 * A message or write handed to WhatsApp whose server ack never comes (the simulator holds it, as a
 * connection that dropped after the message left would lose it) is sent again under the same
 * WhatsApp id after SEND_ACK_TIMEOUT_MS, up to three attempts, through the real Baileys socket.
 */
describe('sending again what WhatsApp never acknowledged', () => {
  let world: SimulatedGateway;
  let simulator: WhatsAppSimulator;
  let gateway: GatewayClient;

  beforeAll(async () => {
    world = await SimulatedGateway.start(
      { SEND_POLL_MS: '50', SEND_RATE_PER_MINUTE: '600', SEND_BURST: '20', SEND_JITTER_MS: '0', SEND_ACK_TIMEOUT_MS: '1000' },
      15550000500,
    );
    ({ simulator, gateway } = world);
  });
  afterAll(async () => {
    await world?.stop();
  });

  const send = (sessionId: string, body: Record<string, unknown>) => api(gateway, `/sessions/${sessionId}/messages`, { method: 'POST', body });
  const message = async (sessionId: string, id: number) => (await api(gateway, `/sessions/${sessionId}/messages/${id}`)).body;
  const receivedBy = (phone: string, contact: string, count: number) =>
    waitFor(() => (simulator.received(phone, contact).length >= count ? simulator.received(phone, contact) : undefined), WAIT_MS);

  it(
    'a text whose ack is held is sent again under its id, and is sent once an ack comes; a reaction likewise, stored once',
    async () => {
      const { phone, sessionId } = await world.linkedPhone();
      simulator.holdAcks(phone, BOB);
      const accepted = await send(sessionId, { to: BOB, text: 'Anyone there?' });
      expect(accepted.status).toBe(202);
      const copies = await receivedBy(phone, BOB, 2);
      expect(copies.map((copy) => copy.id)).toEqual([accepted.body.key.id, accepted.body.key.id]);
      expect((await message(sessionId, accepted.body.id)).status).toBe('pending');
      expect(await simulator.releaseAcks(phone, BOB)).toBeGreaterThanOrEqual(2);
      await waitFor(async () => (await message(sessionId, accepted.body.id)).status === 'sent', WAIT_MS);

      simulator.holdAcks(phone, BOB);
      const reaction = await api(gateway, `/sessions/${sessionId}/messages/${accepted.body.id}/reactions`, { method: 'POST', body: { emoji: '👍' } });
      expect(reaction.status).toBe(202);
      const reactionOf = (copy: { message?: unknown }) => (copy.message as { reactionMessage?: { text?: string } } | undefined)?.reactionMessage;
      const reactions = () => simulator.received(phone, BOB).filter((copy) => reactionOf(copy));
      await waitFor(() => reactions().length >= 2, WAIT_MS);
      // Every copy is the same protocol message (one id): the contact's phone shows one reaction.
      expect(new Set(reactions().map((copy) => `${copy.id} ${reactionOf(copy)?.text}`)).size).toBe(1);
      expect(reactionOf(reactions()[0])?.text).toBe('👍');
      await simulator.releaseAcks(phone, BOB);
      await waitFor(async () => (await api(gateway, `/sessions/${sessionId}/writes/${reaction.body.id}`)).body.status === 'sent', WAIT_MS);
      expect((await message(sessionId, accepted.body.id)).reactions).toEqual([{ senderJid: null, fromMe: true, emoji: '👍', at: expect.any(Number) }]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a text never acknowledged fails after three attempts, with a reason to act on',
    async () => {
      const { phone, sessionId } = await world.linkedPhone();
      simulator.holdAcks(phone, CAROL);
      const accepted = await send(sessionId, { to: CAROL, text: 'Hello?' });
      await waitFor(async () => (await message(sessionId, accepted.body.id)).status === 'failed', WAIT_MS);
      expect((await message(sessionId, accepted.body.id)).failureReason).toMatch(/^WhatsApp did not acknowledge the message after 3 attempts/);
      expect(simulator.received(phone, CAROL).map((copy) => copy.id)).toEqual([accepted.body.key.id, accepted.body.key.id, accepted.body.key.id]);
    },
    TEST_TIMEOUT_MS,
  );
});
