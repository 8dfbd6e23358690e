import { TestApp, Tenant } from '../support/test-app';

const BOB = '+14155550102';
const CAROL = '+14155550103';

/**
 * The outbox's queue depth (migration 1796600000000): the number of each session's pending rows,
 * kept by triggers and read by an accept for its queue position instead of counting the queue.
 * Accepts go over HTTP; every other way a row enters or leaves `pending` is the statement the
 * sender or a deletion runs, and after each the kept number must equal the counted one.
 */
describe('Outbox queue depth', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await TestApp.start({ SESSION_CAPACITY: '0' });
  });
  afterAll(async () => {
    await app?.close();
  });

  const post = (tenant: Tenant, to: string, text: string) =>
    app.request(`/api/v1/sessions/${tenant.sessionId}/messages`, {
      token: tenant.apiKey,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to, text }),
    });

  /** Per session of the tenants: [kept, counted]. */
  async function depths(tenants: Tenant[]): Promise<[number, number][]> {
    const rows: { kept: number; counted: number }[] = await app.dataSource.query(
      `SELECT COALESCE((SELECT pending FROM outbox_queue_depth d WHERE d.session_id = s.id), 0) AS kept,
         (SELECT count(*)::int FROM message_outbox o WHERE o.session_id = s.id AND o.state = 'pending') AS counted
       FROM unnest($1::text[]) WITH ORDINALITY AS s(id, ord) ORDER BY s.ord`,
      [tenants.map((tenant) => tenant.sessionId)],
    );
    return rows.map((row) => [row.kept, row.counted]);
  }

  it('follows accepts, sends, failures, requeues, expiry and deletes, over one session and several', async () => {
    const [a, b] = [await app.createTenant(['read', 'send']), await app.createTenant(['read', 'send', 'manage'])];

    // Concurrent accepts (written together) and one after: positions 0..5, each once.
    const together = await Promise.all([BOB, CAROL, BOB, CAROL, BOB].map((to, n) => post(a, to, `m${n}`)));
    const after = await post(a, BOB, 'm5');
    expect([...together, after].map((response) => response.status)).toEqual([202, 202, 202, 202, 202, 202]);
    expect([...together, after].map((response) => response.body.queue.position).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    for (const text of ['b0', 'b1']) expect((await post(b, BOB, text)).status).toBe(202);
    expect(await depths([a, b])).toEqual([
      [6, 6],
      [2, 2],
    ]);

    const ids = async (tenant: Tenant): Promise<string[]> =>
      (await app.dataSource.query(`SELECT id::text AS id FROM message_outbox WHERE session_id = $1 ORDER BY id`, [tenant.sessionId])).map(
        (row: { id: string }) => row.id,
      );
    const [a0, a1, a2, a3, a4] = await ids(a);
    const statements: [string, unknown[]][] = [
      // A claim and a stored answer change no state.
      [`UPDATE message_outbox SET claimed_epoch = 7 WHERE id = ANY($1::bigint[])`, [[a0, a1]]],
      // Sent, failed, and an unacked send requeued.
      [`UPDATE message_outbox SET state = 'sent', finished_at = now() WHERE id = ANY($1::bigint[])`, [[a0, a1]]],
      [`UPDATE message_outbox SET state = 'failed', failure_reason = 'x' WHERE id = $1`, [a2]],
      [`UPDATE message_outbox SET state = 'pending', finished_at = NULL WHERE id = $1`, [a1]],
      // One statement over both sessions (as the expiry sweep runs).
      [
        `UPDATE message_outbox SET state = 'failed', failure_reason = 'expired' WHERE session_id = ANY($1::text[]) AND id IN (SELECT min(id) FROM message_outbox WHERE state = 'pending' GROUP BY session_id)`,
        [[a.sessionId, b.sessionId]],
      ],
      // Deleting a pending row, and a finished one.
      [`DELETE FROM message_outbox WHERE id = ANY($1::bigint[])`, [[a3, a2]]],
    ];
    for (const [sql, parameters] of statements) {
      await app.dataSource.query(sql, parameters);
      const [depthA, depthB] = await depths([a, b]);
      expect({ sql, kept: [depthA[0], depthB[0]] }).toEqual({ sql, kept: [depthA[1], depthB[1]] });
    }
    // 6 accepted; a0 sent; a2 failed; a1 requeued; the oldest pending expired (a1); a3 deleted: a4 and m5 remain.
    expect(await depths([a, b])).toEqual([
      [2, 2],
      [1, 1],
    ]);
    expect(await ids(a)).toContain(a4);
    expect((await post(a, CAROL, 'next')).body.queue.position).toBe(2);

    // A session's deletion takes its number with it.
    expect((await app.request(`/api/v1/sessions/${b.sessionId}`, { token: b.apiKey, method: 'DELETE' })).status).toBe(204);
    expect(await app.dataSource.query(`SELECT pending FROM outbox_queue_depth WHERE session_id = $1`, [b.sessionId])).toEqual([]);
  });
});
