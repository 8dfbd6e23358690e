import type { Capability } from '../../src/common/capabilities';
import { LeaseManager } from '../../src/whatsapp-sync/leases/lease-manager';
import { ChatSyncService } from '../../src/whatsapp-sync/sync/chat-sync.service';
import { FakeSocketFactory } from '../support/fake-baileys-socket';
import { IsolatedDatabase, isolatedDatabase } from '../support/isolated-database';
import { openedSocket, pause, startPausableReplica, startReplica } from '../support/paused-holder';
import { listedChat } from '../support/sync-helpers';
import { TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const ALL: Capability[] = ['read', 'send', 'manage', 'admin'];
const JID = '6289876543210@s.whatsapp.net';
const NOW_S = Math.floor(Date.now() / 1000);
const OLDER_MUTE_END_S = NOW_S + 3600;
const NEWER_MUTE_END_S = NOW_S + 7200;

/**
 * Chat-sync writes are fenced by the lease epoch, as credential and status writes are: a replica
 * paused past its lease (here: every database connection of its pool taken away, so it can
 * neither renew nor write, as in a long GC or a partition) with a batch queued must not write
 * that batch after another replica took the session over and stored newer events.
 */
describe('Sync fencing: a paused former holder cannot overwrite the stored copy', () => {
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

  it('a batch queued on the paused holder is refused once another replica took over and applied newer events', async () => {
    a = await startPausableReplica(socketsA, { DATABASE_URL: database.url, REPLICA_ID: 'replica-a' });
    const tenant = await a.createTenant(ALL);
    await a.request(`/api/v1/sessions/${tenant.sessionId}/start`, { token: tenant.apiKey, method: 'POST' });
    const socketA = await openedSocket(a, socketsA, tenant);
    socketA.emit('chats.upsert', [{ id: JID, name: 'Bob', conversationTimestamp: NOW_S }]);
    await waitFor(async () => (await listedChat(a!, tenant, JID)) !== undefined);

    b = await startReplica(socketsB, { DATABASE_URL: database.url, REPLICA_ID: 'replica-b' });

    // Pause A: every connection of its pool taken, it can neither renew its lease nor write.
    const resumeA = await pause(a);
    const syncA = a.app.get(ChatSyncService);
    socketA.emit('chats.update', [{ id: JID, muteEndTime: OLDER_MUTE_END_S }]);
    await waitFor(() => syncA.queuedBatches(tenant.sessionId) > 0);

    // B takes the session over once A's lease expired, and stores a newer event.
    await waitFor(() => b!.app.get(LeaseManager).heldSessionIds().includes(tenant.sessionId), 20_000);
    const socketB = await openedSocket(b, socketsB, tenant);
    socketB.emit('chats.update', [{ id: JID, muteEndTime: NEWER_MUTE_END_S }]);
    await waitFor(async () => (await listedChat(b!, tenant, JID))?.mutedUntil === NEWER_MUTE_END_S * 1000);

    // Resume A: its queued batch runs now, and must be refused by the fence.
    resumeA();
    await waitFor(() => syncA.queuedBatches(tenant.sessionId) === 0, 20_000);
    expect(await listedChat(b, tenant, JID)).toMatchObject({ name: 'Bob', mutedUntil: NEWER_MUTE_END_S * 1000 });
    expect(b.app.get(LeaseManager).heldSessionIds()).toContain(tenant.sessionId);
    expect(a.app.get(LeaseManager).heldSessionIds()).not.toContain(tenant.sessionId);
  }, 60_000);
});
