import type { ReceivedMessage } from '../../src/simulator/outgoing-messages';
import { samplePhoneBook } from '../../src/simulator/phone-book';
import type { WhatsAppSimulator } from '../../src/simulator/whatsapp-simulator';
import { api, GatewayClient, linkByQr, SimulatedGateway, SIMULATOR_WAIT_MS, waitForStatus } from '../support/simulated-whatsapp';
import type { TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const BOB = '14155550102@s.whatsapp.net';
const MESSAGES = 5;

/**
 * The outbox across a real SIGKILL (issue 17): the session's holder is a separate process
 * (dist/main.js) sending through the unmodified Baileys socket to the WhatsApp simulator, paced one
 * message every 2 s, with five messages queued. It is killed with SIGKILL the moment the simulated
 * contact decrypts the second one (the holder has written it to the socket; whether it marked it
 * handed over is left to the race). Another replica takes the session over and sends the rest:
 * the contact gets every message, in order, under the WhatsApp id fixed at acceptance; a copy
 * twice only of the one in flight at the kill (sent again under the same id, which the recipient's
 * WhatsApp shows once). The API is served by an in-process app that holds no connection.
 */
describe('Send message: the holder is SIGKILLed with messages queued', () => {
  let world: SimulatedGateway;
  let simulator: WhatsAppSimulator;
  let apiApp: TestApp;
  let gateway: GatewayClient;

  const startReplica = (replicaId: string) =>
    world.spawnReplica(replicaId, {
      SESSION_LEASE_TTL_MS: '6000',
      SESSION_LEASE_RENEW_INTERVAL_MS: '500',
      SESSION_TAKEOVER_JITTER_MS: '200',
      SEND_POLL_MS: '50',
      SEND_RATE_PER_MINUTE: '30',
      SEND_BURST: '1',
      SEND_JITTER_MS: '0',
    });

  beforeAll(async () => {
    world = await SimulatedGateway.start({ SESSION_CAPACITY: '0' });
    ({ simulator, app: apiApp, gateway } = world);
  });
  afterAll(async () => {
    await world?.stop();
  });

  it('each queued message reaches the contact after the takeover, in order, under its fixed id; only the one in flight at the kill goes twice', async () => {
    const phone = '15550000401';
    await simulator.createAccount({ phone, phoneBook: samplePhoneBook(Math.floor(Date.now() / 1000)) });
    const holder = await startReplica('sigkill-holder');
    const sessionId = (await api(gateway, '/sessions', { method: 'POST', body: { name: 'killed mid-send' } })).body.id as string;
    const device = await linkByQr(gateway, sessionId, simulator, phone);
    await waitForStatus(gateway, sessionId, 'connected');
    const successor = await startReplica('sigkill-successor');
    expect((await api(gateway, `/sessions/${sessionId}`)).body.heldBy).toBe('sigkill-holder');

    // The holder dies the moment the contact has decrypted the second message.
    const copies: ReceivedMessage[] = [];
    simulator.on('received', ({ phone: to, contact, message }: { phone: string; contact: string; message: ReceivedMessage }) => {
      if (to !== phone || contact !== BOB) return;
      copies.push(message);
      if (copies.length === 2) holder.child.kill('SIGKILL');
    });
    const accepted: { id: number; key: { id: string } }[] = [];
    for (let i = 1; i <= MESSAGES; i++) {
      const response = await api(gateway, `/sessions/${sessionId}/messages`, { method: 'POST', body: { to: BOB, text: `queued ${i}` } });
      expect(response.status).toBe(202);
      accepted.push(response.body);
    }
    expect(await holder.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const queuedAtKill: { n: number }[] = await apiApp.dataSource.query(
      `SELECT count(*)::int AS n FROM message_outbox WHERE session_id = $1 AND state = 'pending' AND claimed_epoch IS NULL`,
      [sessionId],
    );
    expect(queuedAtKill[0].n).toBeGreaterThanOrEqual(MESSAGES - 2);

    // The successor takes the session over and sends what is left.
    await waitFor(async () => (await api(gateway, `/sessions/${sessionId}`)).body.heldBy === 'sigkill-successor', SIMULATOR_WAIT_MS);
    const ids = accepted.map((message) => message.key.id);
    await waitFor(() => ids.every((id) => copies.some((copy) => copy.id === id)), SIMULATOR_WAIT_MS);
    await waitFor(async () => {
      const rows: { state: string }[] = await apiApp.dataSource.query(`SELECT state FROM message_outbox WHERE session_id = $1`, [sessionId]);
      return rows.length === MESSAGES && rows.every((row) => row.state === 'sent');
    }, SIMULATOR_WAIT_MS);

    // In order, each under its fixed id, each with its own text.
    const firstCopies = ids.map((id) => copies.find((copy) => copy.id === id)!);
    expect(firstCopies.map((copy) => copy.text)).toEqual(accepted.map((_, i) => `queued ${i + 1}`));
    expect([...new Set(copies.map((copy) => copy.id))]).toEqual(ids);
    // A second copy only of the message in flight at the kill (the second), the same message again.
    const twice = ids.filter((id) => copies.filter((copy) => copy.id === id).length > 1);
    expect(twice.every((id) => id === ids[1])).toBe(true);
    expect(copies).toHaveLength(MESSAGES + twice.length);
    // Messages the successor sent are acknowledged there; the first went before the kill.
    for (const message of accepted.slice(2)) {
      await waitFor(async () => (await api(gateway, `/sessions/${sessionId}/messages/${message.id}`)).body.status === 'sent', SIMULATOR_WAIT_MS);
    }
    expect(simulator.devices(phone)).toEqual([expect.objectContaining({ jid: device, overlaps: 0, maxConnections: 1, connections: 1 })]);
    expect(successor.child.exitCode).toBeNull();
  }, 360_000);
});
