import type { QueryRunner } from 'typeorm';
import { TestApp, Tenant } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const BOB = '+14155550102';
const BOB_JID = '14155550102@s.whatsapp.net';
const CAROL = '+14155550103';
const DAVE = '+14155550104';

/** The value of an unlabelled sample of a Prometheus text exposition, or undefined. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/**
 * Send message's group commit (accept-batches.ts), over HTTP and PostgreSQL: a first accept is held
 * on a chat row the test locks, so the accepts sent meanwhile wait for it (the gauge
 * gateway_send_accepts_waiting says when they all do) and are written together once it commits.
 */
describe('Send message: accepts written together', () => {
  let app: TestApp;

  beforeAll(async () => {
    // The held accept waits on the test's lock for as long as the test takes to queue the others.
    app = await TestApp.start({ SESSION_CAPACITY: '0', DATABASE_STATEMENT_TIMEOUT_MS: '120000', DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '120000' });
  });
  afterAll(async () => {
    await app?.close();
  });

  const post = (tenant: Tenant, body: unknown, key?: string) =>
    app.request(`/api/v1/sessions/${tenant.sessionId}/messages`, {
      token: tenant.apiKey,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key !== undefined ? { 'idempotency-key': key } : {}) },
      body: JSON.stringify(body),
    });
  const waiting = async () => sample((await app.request('/metrics')).text, 'gateway_send_accepts_waiting');

  /**
   * Holds an accept to Bob's chat in flight (its statement waits on the chat row, locked by the
   * test); `whileHeld` sends more, each waiting for the batch, then the lock is let go.
   */
  async function withAcceptHeld<T>(tenant: Tenant, whileHeld: () => Promise<T>) {
    expect((await post(tenant, { to: BOB, text: 'makes the chat' })).status).toBe(202);
    const lock: QueryRunner = app.dataSource.createQueryRunner();
    await lock.connect();
    try {
      await lock.startTransaction();
      await lock.query(`SELECT 1 FROM chats WHERE session_id = $1 AND jid = $2 FOR UPDATE`, [tenant.sessionId, BOB_JID]);
      const held = post(tenant, { to: BOB, text: 'held' }, 'held');

      await waitFor(async () => {
        const [row] = await lock.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
        return row.n > 0;
      });
      const queued = await whileHeld();
      await lock.commitTransaction();
      return { held: await held, queued };
    } finally {
      if (lock.isTransactionActive) await lock.rollbackTransaction();
      await lock.release();
    }
  }

  /**
   * Sends one accept and waits until it waits for the batch in flight (so the order of a batch is
   * the order sent); its answer comes once that batch is written (wrapped: not awaited here).
   */
  async function queue(count: number, send: () => ReturnType<typeof post>) {
    const response = send();
    await waitFor(async () => (await waiting()) === count);
    return { response };
  }

  const transactionOf = async (messageIds: number[]) =>
    app.dataSource.query<{ xmin: string }[]>(`SELECT DISTINCT xmin::text FROM message_outbox WHERE message_id = ANY($1::bigint[])`, [messageIds]);

  it('the accepts that arrive while one is written go together in one transaction; duplicates of a key in it resolve to one message, another body is 409', async () => {
    const tenant = await app.createTenant(['read', 'send']);
    const { held, queued } = await withAcceptHeld(tenant, async () => [
      await queue(1, () => post(tenant, { to: CAROL, text: 'once' }, 'dup')),
      await queue(2, () => post(tenant, { text: 'once', to: CAROL }, 'dup')),
      await queue(3, () => post(tenant, { to: CAROL, text: 'another body' }, 'dup')),
      await queue(4, () => post(tenant, { to: DAVE, text: 'with its own key' }, 'own')),
      await queue(5, () => post(tenant, { to: DAVE, text: 'without a key' })),
    ]);
    const [first, again, other, own, keyless] = await Promise.all(queued.map(({ response }) => response));
    expect(held.status).toBe(202);
    expect([first.status, again.status, other.status, own.status, keyless.status]).toEqual([202, 202, 409, 202, 202]);
    // The first answer byte for byte, and one message for the key.
    expect(again.text).toBe(first.text);
    expect(other.body.error).toMatchObject({ code: 'conflict', details: { reason: 'idempotency_key_reused' } });
    const keyed = await app.dataSource.query(`SELECT count(*)::int AS n FROM message_outbox WHERE session_id = $1 AND idempotency_key = 'dup'`, [
      tenant.sessionId,
    ]);
    expect(keyed[0].n).toBe(1);

    // One transaction for the three written together, not the held one's.
    const batch = await transactionOf([first.body.id, own.body.id, keyless.body.id]);
    expect(batch).toHaveLength(1);
    expect(await transactionOf([held.body.id])).not.toEqual(batch);
    // In the order sent, each behind the ones before it in the session's queue.
    const outboxOrder = await app.dataSource.query(`SELECT message_id::int AS id FROM message_outbox WHERE session_id = $1 ORDER BY id`, [tenant.sessionId]);
    expect(outboxOrder.map((row: { id: number }) => row.id).slice(2)).toEqual([first.body.id, own.body.id, keyless.body.id]);
    expect([first.body.queue.position, own.body.queue.position, keyless.body.queue.position]).toEqual([2, 3, 4]);
    // Stored, and in List messages, as alone.
    const page = await app.request(`/api/v1/sessions/${tenant.sessionId}/chats/${own.body.chatId}/messages`, { token: tenant.apiKey });
    expect(page.body.data.map((message: { id: number; status: string }) => [message.id, message.status])).toEqual([
      [keyless.body.id, 'pending'],
      [own.body.id, 'pending'],
    ]);
  }, 60_000);

  it('a message the database refuses fails alone (500, the envelope); the others of its batch are accepted, one by one', async () => {
    const tenant = await app.createTenant(['read', 'send']);
    // A refusal only PostgreSQL knows of, for one text (as a constraint would be).
    await app.dataSource.query(`
      CREATE OR REPLACE FUNCTION test_refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.content -> 'content' ->> 'text' = 'refused by the database' THEN RAISE EXCEPTION 'refused by a test trigger'; END IF;
        RETURN NEW;
      END $$`);
    await app.dataSource.query(`CREATE TRIGGER test_refuse_outbox BEFORE INSERT ON message_outbox FOR EACH ROW EXECUTE FUNCTION test_refuse_outbox()`);
    try {
      const { held, queued } = await withAcceptHeld(tenant, async () => [
        await queue(1, () => post(tenant, { to: CAROL, text: 'before' }, 'before')),
        await queue(2, () => post(tenant, { to: DAVE, text: 'refused by the database' }, 'refused')),
        await queue(3, () => post(tenant, { to: DAVE, text: 'after' })),
      ]);
      const [before, refused, after] = await Promise.all(queued.map(({ response }) => response));
      expect([held.status, before.status, refused.status, after.status]).toEqual([202, 202, 500, 202]);
      expect(refused.body.error).toMatchObject({ code: 'internal' });
      expect(JSON.stringify(refused.body)).not.toContain('test trigger');
      // Each in a transaction of its own (the batch rolled back, retried one by one), and nothing of the refused one stored.
      expect(await transactionOf([before.body.id, after.body.id])).toHaveLength(2);
      // (In the order of their outbox rows: message ids come from a sequence each connection caches a range of.)
      const rows = await app.dataSource.query(
        `SELECT m.body FROM messages m JOIN message_outbox o ON o.session_id = m.session_id AND o.message_id = m.id WHERE m.session_id = $1 ORDER BY o.id`,
        [tenant.sessionId],
      );
      expect(rows.map((row: { body: string }) => row.body)).toEqual(['makes the chat', 'held', 'before', 'after']);
      // The refused key is free: the same request, once the database takes it, is accepted.
      await app.dataSource.query(`DROP TRIGGER test_refuse_outbox ON message_outbox`);
      expect((await post(tenant, { to: DAVE, text: 'refused by the database' }, 'refused')).status).toBe(202);
    } finally {
      await app.dataSource.query(`DROP TRIGGER IF EXISTS test_refuse_outbox ON message_outbox`);
    }
  }, 60_000);
});
