import { EventLogTail } from '../../src/events/event-log-tail';
import { EventRetention } from '../../src/events/event-retention';
import { ChatSyncService } from '../../src/whatsapp-sync/sync/chat-sync.service';
import { IsolatedDatabase, isolatedDatabase } from '../support/isolated-database';
import { SseClient } from '../support/sse-client';
import { listedChat } from '../support/sync-helpers';
import { TestApp, Tenant } from '../support/test-app';
import { waitFor } from '../support/wait-for';

// A test below holds a transaction open, idle, across two heartbeats: on a loaded machine that can outlast the default bound.
const ENV = { EVENTS_POLL_INTERVAL_MS: '200', EVENTS_STREAM_HEARTBEAT_MS: '1000', DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '120000' };

describe('Event log and stream', () => {
  let database: IsolatedDatabase;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    database = await isolatedDatabase();
    a = await TestApp.start({ ...ENV, DATABASE_URL: database.url });
    b = await TestApp.start({ ...ENV, DATABASE_URL: database.url });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  const open = (app: TestApp, tenant: Tenant, query = '', headers: Record<string, string> = {}) =>
    SseClient.open(`${app.baseUrl}/api/v1/events/stream${query}`, { authorization: `Bearer ${tenant.apiKey}`, ...headers });

  async function rename(app: TestApp, tenant: Tenant, jid: string, name: string): Promise<void> {
    const [, count] = await app.dataSource.query(`UPDATE chats SET name = $3 WHERE session_id = $1 AND jid = $2`, [tenant.sessionId, jid, name]);
    if (count === 0) await app.insertChats(tenant.sessionId, [{ jid, name }]);
  }

  async function eventsOf(tenant: Tenant): Promise<{ id: string; type: string; data: any }[]> {
    return a.dataSource.query(`SELECT id::text, type, data FROM events WHERE org_id = $1 ORDER BY events.id`, [tenant.orgId]);
  }

  describe('the event log', () => {
    it('gets one chat.updated per chat a transaction changed, with its state at commit, and nothing for a rollback or a write that changes nothing shown', async () => {
      const tenant = await a.createTenant();
      const [id] = await a.insertChats(tenant.sessionId, [{ jid: '6281000000001@s.whatsapp.net', name: 'Ann' }]);
      await a.dataSource.transaction(async (manager) => {
        await manager.query(`UPDATE chats SET name = 'Anna' WHERE id = $1`, [id]);
        await manager.query(`UPDATE chats SET pinned_at = 1719662400000 WHERE id = $1`, [id]);
      });
      await a.dataSource.query(`UPDATE chats SET updated_at = now(), pinned_at = 1719662400001 WHERE id = $1`, [id]).catch(() => undefined);
      await a.dataSource
        .transaction(async (manager) => {
          await manager.query(`UPDATE chats SET name = 'Never' WHERE id = $1`, [id]);
          throw new Error('roll back');
        })
        .catch(() => undefined);
      const events = await eventsOf(tenant);
      expect(events.map((event) => [event.type, event.type === 'session.status' ? event.data.status : event.data.name, event.data.pinned])).toEqual([
        ['session.status', 'stopped', undefined],
        ['chat.updated', 'Ann', false],
        ['chat.updated', 'Anna', true],
      ]);
      expect(events[2].data).toEqual(await listedChat(a, tenant, '6281000000001@s.whatsapp.net'));
    });

    it('follows the sync: a chat merged into the person it belongs to is chat.deleted, the one that stays chat.updated', async () => {
      const tenant = await a.createTenant();
      const sync = a.app.get(ChatSyncService);
      await sync.applyHistoryBatch(tenant.sessionId, [
        { id: '6281000000002@s.whatsapp.net', name: 'Phone', conversationTimestamp: 1719662400 },
        { id: '99887766@lid', name: 'Lid', conversationTimestamp: 1719662500 },
      ]);
      const before = await eventsOf(tenant);
      await sync.handle(tenant.sessionId, { 'lid-mapping.update': { lid: '99887766@lid', pn: '6281000000002@s.whatsapp.net' } });
      const after = (await eventsOf(tenant)).slice(before.length);
      const listed = await listedChat(a, tenant, '6281000000002@s.whatsapp.net');
      expect(after.map((event) => event.type).sort()).toEqual(['chat.deleted', 'chat.updated']);
      expect(after.find((event) => event.type === 'chat.updated')!.data).toEqual(listed);
      expect(after.find((event) => event.type === 'chat.deleted')!.data.id).not.toBe(listed!.id);
    });

    it('writes session.status as GET /sessions/{id} shows the session', async () => {
      const tenant = await a.createTenant(['read', 'manage']);
      const started = await a.request(`/api/v1/sessions/${tenant.sessionId}/start`, { token: tenant.apiKey, method: 'POST' });
      expect(started.status).toBe(200);
      const events = (await eventsOf(tenant)).filter((event) => event.type === 'session.status');
      const shown = await a.request(`/api/v1/sessions/${tenant.sessionId}`, { token: tenant.apiKey });
      const { sync: _sync, ...session } = shown.body;
      expect(events.map((event) => event.data.status)).toEqual(['stopped', 'connecting']);
      expect(events[1].data).toEqual(session);
    });

    it('deletes expired events in batches', async () => {
      const tenant = await a.createTenant();
      await a.insertChats(tenant.sessionId, [{ jid: '6281000000003@s.whatsapp.net' }]);
      const retention = a.app.get(EventRetention);
      const week = 168 * 3_600_000;
      const mine = async () => (await eventsOf(tenant)).length;
      expect(await mine()).toBe(2);
      await retention.sweep(Date.now() + week - 60_000);
      expect(await mine()).toBe(2);
      await retention.sweep(Date.now() + week + 60_000);
      expect(await mine()).toBe(0);
    });
  });

  describe('GET /events/stream', () => {
    it('streams an event made on replica A to a stream on replica B, with heartbeats', async () => {
      const tenant = await a.createTenant();
      const stream = await open(b, tenant);
      expect(stream.status).toBe(200);
      await rename(a, tenant, '6282000000001@s.whatsapp.net', 'Cross');
      const [event] = await stream.waitFor(() => stream.events().length >= 1 && stream.events());
      expect(event.type).toBe('chat.updated');
      expect(event.json).toMatchObject({ id: event.id, type: 'chat.updated', orgId: tenant.orgId, sessionId: tenant.sessionId, data: { name: 'Cross' } });
      await stream.waitFor(() => stream.messages.some((message) => message.comments.includes('heartbeat')));
      stream.close();
    });

    it('resumes after a disconnect from Last-Event-ID: every event once, in order', async () => {
      const tenant = await a.createTenant();
      const first = await open(a, tenant);
      for (let i = 0; i < 3; i++) await rename(a, tenant, `62830000000${i}@s.whatsapp.net`, `before ${i}`);
      await first.waitFor(() => first.events().length >= 3);
      const lastId = first.lastId()!;
      first.close();
      for (let i = 0; i < 4; i++) await rename(b, tenant, `62830000000${i}@s.whatsapp.net`, `while away ${i}`);
      const second = await open(b, tenant, '', { 'last-event-id': lastId });
      for (let i = 0; i < 2; i++) await rename(a, tenant, `62830000000${i}@s.whatsapp.net`, `after ${i}`);
      await second.waitFor(() => second.events().length >= 6);

      const seen = [...first.events(), ...second.events()];
      const logged = (await eventsOf(tenant)).filter((event) => event.type === 'chat.updated');
      expect(seen.map((event) => event.json.data.name)).toEqual(logged.map((event) => event.data.name));
      expect(seen.map((event) => event.id)).toEqual([...seen.map((event) => event.id)].sort());
      expect(new Set(seen.map((event) => event.id)).size).toBe(seen.length);
      second.close();
    });

    it('hands out an event numbered before another but committed after it first, never skipping it; a number a rolled-back transaction took holds nothing up', async () => {
      const tenant = await a.createTenant();
      const [early, late, after] = ['6284500000001@s.whatsapp.net', '6284500000002@s.whatsapp.net', '6284500000003@s.whatsapp.net'];
      await a.insertChats(tenant.sessionId, [{ jid: early }, { jid: late }, { jid: after }]);
      // The stream opens once the tail has handed out the new chats' events (a stream starts where the tail is).
      const created = BigInt((await eventsOf(tenant)).at(-1)!.id);
      await waitFor(() => b.app.get(EventLogTail).lastSeenId >= created);
      const stream = await open(b, tenant);
      const names = () => stream.events().map((event) => event.json.data.name as string);

      // A transaction numbers its events (SET CONSTRAINTS ... IMMEDIATE publishes now) and stays open.
      const slow = a.dataSource.createQueryRunner();
      await slow.connect();
      try {
        await slow.startTransaction();
        await slow.query(`UPDATE chats SET name = 'numbered first' WHERE session_id = $1 AND jid = $2`, [tenant.sessionId, early]);
        await slow.query(`SET CONSTRAINTS ALL IMMEDIATE`);
        const [{ id: first }] = await slow.query(`SELECT max(id)::text AS id FROM events WHERE org_id = $1`, [tenant.orgId]);
        // Another commits a higher number meanwhile, without waiting for the first (the event log holds no lock through commits).
        await rename(a, tenant, late, 'committed first');
        // Two heartbeats later the tail has long read the higher number; it holds it back behind the open one.
        const beats = () => stream.messages.filter((message) => message.comments.includes('heartbeat')).length;
        const seenBeats = beats();
        await stream.waitFor(() => beats() >= seenBeats + 2);
        expect(names()).toEqual([]);
        expect(b.app.get(EventLogTail).lastSeenId).toBeLessThan(BigInt(first));
        await slow.commitTransaction();
      } finally {
        // A failed assertion must not leave the transaction open: the tail would wait for it, and every later test with it.
        if (slow.isTransactionActive) await slow.rollbackTransaction();
        await slow.release();
      }
      await stream.waitFor(() => stream.events().length >= 2);
      expect(names()).toEqual(['numbered first', 'committed first']);

      const undone = a.dataSource.createQueryRunner();
      await undone.connect();
      await undone.startTransaction();
      await undone.query(`UPDATE chats SET name = 'rolled back' WHERE session_id = $1 AND jid = $2`, [tenant.sessionId, early]);
      await undone.query(`SET CONSTRAINTS ALL IMMEDIATE`);
      await undone.rollbackTransaction();
      await undone.release();
      await rename(a, tenant, after, 'after the rollback');
      await stream.waitFor(() => stream.events().length >= 3);
      expect(names()).toEqual(['numbered first', 'committed first', 'after the rollback']);
      expect(stream.events().map((event) => event.id)).toEqual([...stream.events().map((event) => event.id)].sort());
      stream.close();
    });

    it('under concurrent commits and rollbacks, hands every committed event out once, in id order, and none twice', async () => {
      const tenant = await a.createTenant();
      const jids = Array.from({ length: 8 }, (_, i) => `628460000000${i}@s.whatsapp.net`);
      await a.insertChats(
        tenant.sessionId,
        jids.map((jid) => ({ jid })),
      );
      const tail = b.app.get(EventLogTail);
      const startedAt = BigInt((await eventsOf(tenant)).at(-1)!.id);
      await waitFor(() => tail.lastSeenId >= startedAt);
      const seen: bigint[] = [];
      const unsubscribe = tail.subscribe((rows) => {
        for (const row of rows) if (row.org_id === tenant.orgId) seen.push(BigInt(row.id));
      });
      // Eight writers, one chat each, 40 transactions each; every fifth rolls back after numbering its event.
      await Promise.all(
        jids.map(async (jid, writer) => {
          for (let i = 0; i < 40; i++) {
            const runner = a.dataSource.createQueryRunner();
            await runner.connect();
            try {
              await runner.startTransaction();
              await runner.query(`UPDATE chats SET name = $3 WHERE session_id = $1 AND jid = $2`, [tenant.sessionId, jid, `w${writer} ${i}`]);
              await runner.query(`SET CONSTRAINTS ALL IMMEDIATE`);
              if (i % 5 === 4) await runner.rollbackTransaction();
              else await runner.commitTransaction();
            } finally {
              await runner.release();
            }
          }
        }),
      );
      const committed = (await eventsOf(tenant)).map((event) => BigInt(event.id)).filter((id) => id > startedAt);
      expect(committed).toHaveLength(8 * 32);
      await waitFor(() => seen.length >= committed.length, 30_000);
      unsubscribe();
      expect(seen).toEqual(committed);
    });

    it('tells a client resuming from an id that retention swept that events are missing (a gap message), then streams on', async () => {
      const tenant = await a.createTenant();
      for (let i = 0; i < 3; i++) await rename(a, tenant, `62840000000${i}@s.whatsapp.net`, `swept ${i}`);
      const logged = await eventsOf(tenant);
      const [oldest, newest] = [logged[0].id.padStart(19, '0'), logged[logged.length - 1].id.padStart(19, '0')];
      await a.app.get(EventRetention).sweep(Date.now() + 168 * 3_600_000 + 60_000);
      expect(await eventsOf(tenant)).toEqual([]);

      const resumed = await open(b, tenant, '', { 'last-event-id': oldest });
      const gap = await resumed.waitFor(() => resumed.events().find((event) => event.type === 'gap'));
      expect(gap.id).toBe(newest);
      expect(gap.json).toEqual({ type: 'gap', lastEventId: oldest, resumesAfter: newest, reason: expect.stringContaining('retention') });
      await rename(a, tenant, '628400000000@s.whatsapp.net', 'after the sweep');
      const [, next] = await resumed.waitFor(() => resumed.events().length >= 2 && resumed.events());
      expect([next.type, next.json.data.name]).toEqual(['chat.updated', 'after the sweep']);
      resumed.close();

      // Resuming from the gap's id (as EventSource does after it) or later: no gap again.
      const again = await open(a, tenant, '', { 'last-event-id': gap.id });
      const [first] = await again.waitFor(() => again.events().length >= 1 && again.events());
      expect([first.type, first.json.data.name]).toEqual(['chat.updated', 'after the sweep']);
      expect(again.events().some((event) => event.type === 'gap')).toBe(false);
      again.close();
    });

    it("never shows one org's events to another, and filters by type and session", async () => {
      const [mine, theirs] = [await a.createTenant(), await a.createTenant()];
      const all = await open(a, mine, '?lastEventId=0');
      const chatsOnly = await open(b, mine, `?types=chat.deleted&sessionId=${mine.sessionId}`);
      await rename(a, theirs, '6284000000001@s.whatsapp.net', 'theirs');
      await rename(a, mine, '6284000000002@s.whatsapp.net', 'mine');
      await a.dataSource.query(`DELETE FROM chats WHERE session_id = $1`, [mine.sessionId]);
      await all.waitFor(() => all.events().some((event) => event.type === 'chat.deleted'));
      await chatsOnly.waitFor(() => chatsOnly.events().length >= 1);
      expect(all.events().map((event) => event.type)).toEqual(['session.status', 'chat.updated', 'chat.deleted']);
      expect(all.events().every((event) => event.json.orgId === mine.orgId)).toBe(true);
      expect(chatsOnly.events().map((event) => [event.type, event.json.data.jid])).toEqual([['chat.deleted', '6284000000002@s.whatsapp.net']]);
      all.close();
      chatsOnly.close();
    });

    it('answers bad requests with the error envelope before streaming', async () => {
      const tenant = await a.createTenant();
      const stranger = await a.createTenant();
      const noRead = await a.createTenant(['send']);
      const cases: [Tenant | undefined, string, Record<string, string>, number][] = [
        [undefined, '', {}, 401],
        [noRead, '', {}, 403],
        [tenant, '?types=chat.exploded', {}, 400],
        [tenant, '', { 'last-event-id': 'abc' }, 400],
        [tenant, `?sessionId=${stranger.sessionId}`, {}, 404],
      ];
      for (const [who, query, headers, status] of cases) {
        const response = await fetch(`${a.baseUrl}/api/v1/events/stream${query}`, {
          headers: { ...(who && { authorization: `Bearer ${who.apiKey}` }), ...headers },
        });
        const body = (await response.json()) as { error?: { code?: string } };
        expect({ query, status: response.status, code: typeof body.error?.code }).toEqual({ query, status, code: 'string' });
      }
    });

    it('ends open streams with a retry hint when the replica shuts down', async () => {
      const replica = await TestApp.start({ ...ENV, DATABASE_URL: database.url });
      const tenant = await replica.createTenant();
      const stream = await open(replica, tenant);
      await stream.waitFor(() => stream.messages.length >= 1);
      const closing = replica.close();
      await stream.waitFor(() => stream.ended);
      await closing;
      const last = stream.messages[stream.messages.length - 1];
      expect(last.retry).toBeGreaterThan(0);
      expect(last.id).toBe(stream.messages[0].id);
    });
  });
});
