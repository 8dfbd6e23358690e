import type { Capability } from '../../src/common/capabilities';
import { LeaseManager } from '../../src/whatsapp-sync/leases/lease-manager';
import { FakeSocketFactory } from '../support/fake-baileys-socket';
import { IsolatedDatabase, isolatedDatabase } from '../support/isolated-database';
import { openedSocket, pause, startPausableReplica, startReplica } from '../support/paused-holder';
import { TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const ALL: Capability[] = ['read', 'send', 'manage', 'admin'];
const SEND_ENV = {
  SEND_RATE_PER_MINUTE: '6000',
  SEND_BURST: '100',
  SEND_JITTER_MS: '0',
  SEND_POLL_MS: '50',
};

/**
 * The outbox across a holder that dies mid-send: replica A sends the first queued message (it
 * goes out on the socket) and then stops dead (its send never returns, every database connection
 * of its pool taken: it can neither renew its lease nor write). Replica B takes the session over
 * and sends every queued message; the one A was sending goes again under the same WhatsApp id
 * (the recipient's WhatsApp sees one message); when A comes back, its late writes are refused.
 */
describe('Send message: the holder dies with messages queued', () => {
  let database: IsolatedDatabase;
  let a: TestApp | undefined;
  let b: TestApp | undefined;
  const socketsA = new FakeSocketFactory();
  const socketsB = new FakeSocketFactory();

  beforeAll(async () => {
    database = await isolatedDatabase();
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await database.drop();
  });

  it('every queued message is sent after the takeover, each WhatsApp id once by the new holder, and the old holder writes nothing more', async () => {
    a = await startPausableReplica(socketsA, { ...SEND_ENV, DATABASE_URL: database.url, REPLICA_ID: 'send-a' });
    const tenant = await a.createTenant(ALL);
    await a.request(`/api/v1/sessions/${tenant.sessionId}/start`, { token: tenant.apiKey, method: 'POST' });
    const accepted: any[] = [];
    for (let i = 1; i <= 5; i++) {
      const response = await a.request(`/api/v1/sessions/${tenant.sessionId}/messages`, {
        token: tenant.apiKey,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ to: '+14155550102', text: `message ${i}` }),
      });
      expect(response.status).toBe(202);
      accepted.push(response.body);
    }
    // Queued before the session connects, so the pacing (off) lets A claim all five at once.
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const socketA = await openedSocket(a, socketsA, tenant, (socket) => {
      socket.sendGate = gate;
    });
    // A sent the first message and hangs in the send; the rest wait behind it.
    await waitFor(() => socketA.sent.length === 1 || undefined, 20_000);
    const claimed = await a.dataSource.query(`SELECT count(*)::int AS n FROM message_outbox WHERE session_id = $1 AND claimed_epoch IS NOT NULL`, [
      tenant.sessionId,
    ]);
    expect(claimed).toEqual([{ n: 5 }]);

    b = await startReplica(socketsB, { ...SEND_ENV, DATABASE_URL: database.url, REPLICA_ID: 'send-b' });
    const resumeA = await pause(a);
    try {
      await waitFor(() => b!.app.get(LeaseManager).heldSessionIds().includes(tenant.sessionId) || undefined, 20_000);
      const socketB = await openedSocket(b, socketsB, tenant);
      const statuses = async () =>
        Promise.all(
          accepted.map(
            async (message) => (await b!.request(`/api/v1/sessions/${tenant.sessionId}/messages/${message.id}`, { token: tenant.apiKey })).body.status,
          ),
        );
      await waitFor(async () => (await statuses()).every((status) => status === 'sent') || undefined, 20_000);
      expect(socketB.sent.map((sent) => sent.options.messageId)).toEqual(accepted.map((message) => message.key.id));
    } finally {
      resumeA();
      openGate();
    }
    // A wakes up: its send returns; it sends none of the four it claimed with it (its lease is past its
    // time by its own clock), its mark is refused by the fence, it claims nothing more.
    await waitFor(() => !a!.app.get(LeaseManager).heldSessionIds().includes(tenant.sessionId) || undefined, 20_000);
    expect(socketA.sent.map((sent) => sent.options.messageId)).toEqual([accepted[0].key.id]);
    const rows = await b.dataSource.query(`SELECT state, count(*)::int AS n FROM message_outbox WHERE session_id = $1 GROUP BY state`, [tenant.sessionId]);
    expect(rows).toEqual([{ state: 'sent', n: 5 }]);
  }, 90_000);
});
