import { samplePhoneBook } from '../../src/simulator/phone-book';
import type { WhatsAppSimulator } from '../../src/simulator/whatsapp-simulator';
import {
  api,
  expectedChats,
  GatewayClient,
  linkByQr,
  listAllChats,
  settledChats,
  SimulatedGateway,
  SIMULATOR_WAIT_MS,
  waitForStatus,
} from '../support/simulated-whatsapp';
import type { SpawnedGateway } from '../support/spawned-gateway';
import { waitFor } from '../support/wait-for';

const TTL_MS = 6000;
const RENEW_MS = 500;
const JITTER_MS = 200;
/** When a dead holder's session is claimed at the latest: its lease expires, a scan runs, the jitter passes. */
const TAKEOVER_BOUND_MS = TTL_MS + RENEW_MS * 1.1 + JITTER_MS;
/** What a claimed session needs on top to be logged in again (process start-up is not counted). */
const LOGIN_ALLOWANCE_MS = 15_000;

/**
 * Gateways as separate processes (dist/main.js) holding a session linked to the simulator: one is
 * killed and another logs in with the stored credentials (no QR) and keeps decrypting; with two
 * replicas running, the holder is killed and the other takes over within the lease bound, never
 * two connections of the device at once (the simulator counts them). The API is served by an
 * in-process app that holds no connection.
 */
describe('replicas holding a session linked through the WhatsApp simulator', () => {
  let world: SimulatedGateway;
  let simulator: WhatsAppSimulator;
  let gateway: GatewayClient;
  let replicas: SpawnedGateway[];

  const startReplica = (replicaId: string) =>
    world.spawnReplica(replicaId, {
      SESSION_LEASE_TTL_MS: String(TTL_MS),
      SESSION_LEASE_RENEW_INTERVAL_MS: String(RENEW_MS),
      SESSION_TAKEOVER_JITTER_MS: String(JITTER_MS),
    });

  beforeAll(async () => {
    world = await SimulatedGateway.start({ SESSION_CAPACITY: '0' });
    ({ simulator, gateway, replicas } = world);
  });
  afterAll(async () => {
    await world?.stop();
  });

  it('a killed holder is replaced: the next replica logs in without a QR and keeps decrypting; with two running, the survivor takes over within the lease bound, one connection at a time', async () => {
    const phone = '15550000201';
    const phoneBook = samplePhoneBook(Math.floor(Date.now() / 1000));
    await simulator.createAccount({ phone, phoneBook });
    const qrs: string[] = [];
    const first = await startReplica('replica-one');
    const sessionId = (await api(gateway, '/sessions', { method: 'POST', body: { name: 'held by replicas' } })).body.id as string;
    const device = await linkByQr(gateway, sessionId, simulator, phone);
    await waitForStatus(gateway, sessionId, 'connected');
    const expected = expectedChats(phoneBook);
    expect(await settledChats(gateway, sessionId, expected)).toEqual(expected);
    simulator.on('qr', (ref: string) => qrs.push(ref));
    const heldBy = async () => (await api(gateway, `/sessions/${sessionId}`)).body.heldBy;
    expect(await heldBy()).toBe('replica-one');

    // The process dies: a replica started afterwards logs in with the stored credentials.
    first.child.kill('SIGKILL');
    await first.exited;
    await startReplica('replica-two');
    await waitFor(() => simulator.devices(phone)[0].logins === 2 && simulator.devices(phone)[0].connections === 1, SIMULATOR_WAIT_MS);
    const afterRestart = await simulator.sendMessage({
      to: phone,
      from: '14155550101',
      text: 'after the restart',
      timestamp: Math.floor(Date.now() / 1000) + 1,
    });
    await waitFor(() => simulator.receiptsOf(device).has(afterRestart), SIMULATOR_WAIT_MS);
    await waitFor(
      async () => (await listAllChats(gateway, sessionId)).find((chat) => chat.jid === '14155550101@s.whatsapp.net')?.unreadCount === 3,
      SIMULATOR_WAIT_MS,
    );
    expect(await heldBy()).toBe('replica-two');

    // Two replicas: the holder dies, the other one takes the number over.
    const third = await startReplica('replica-three');
    const holder = replicas[1];
    const killedAt = Date.now();
    holder.child.kill('SIGKILL');
    await holder.exited;
    await waitFor(() => simulator.devices(phone)[0].logins === 3 && simulator.devices(phone)[0].connections === 1, TAKEOVER_BOUND_MS + LOGIN_ALLOWANCE_MS);
    expect(Date.now() - killedAt).toBeLessThan(TAKEOVER_BOUND_MS + LOGIN_ALLOWANCE_MS);
    await waitFor(async () => (await heldBy()) === 'replica-three', SIMULATOR_WAIT_MS);
    const afterTakeover = await simulator.sendMessage({
      to: phone,
      from: '14155550101',
      text: 'after the takeover',
      timestamp: Math.floor(Date.now() / 1000) + 2,
    });
    await waitFor(() => simulator.receiptsOf(device).has(afterTakeover), SIMULATOR_WAIT_MS);
    await waitFor(
      async () => (await listAllChats(gateway, sessionId)).find((chat) => chat.jid === '14155550101@s.whatsapp.net')?.unreadCount === 4,
      SIMULATOR_WAIT_MS,
    );

    expect(simulator.devices(phone)).toEqual([expect.objectContaining({ jid: device, logins: 3, overlaps: 0, maxConnections: 1, connections: 1 })]);
    expect(qrs).toEqual([]);
    expect(third.child.exitCode).toBeNull();
  }, 360_000);
});
