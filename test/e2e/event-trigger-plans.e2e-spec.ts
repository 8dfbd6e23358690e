import { Client } from 'pg';
import { newSessionId } from '../../src/sessions/session-id';
import { IsolatedDatabase, isolatedDatabase } from '../support/isolated-database';

/**
 * PL/pgSQL keeps a statement's plan for the life of a connection, made from the tables as they were
 * when the connection first ran it (migration 1796610000000). A connection that first ran the event
 * log's triggers on nearly empty tables must still read the grown tables by key. An isolated
 * database: the tables must start empty. One connection for the whole file, as a gateway's pool
 * keeps one.
 */
describe('the event log triggers on a connection that first ran them on empty tables', () => {
  let database: IsolatedDatabase;
  let client: Client;
  const sessionId = newSessionId();

  beforeAll(async () => {
    database = await isolatedDatabase();
    client = new Client({ connectionString: database.url });
    await client.connect();
    await client.query(`INSERT INTO sessions (id, org_id, name) VALUES ($1, 'org-plan', 'plan')`, [sessionId]);
    await client.query(`INSERT INTO chats (session_id, jid, type) VALUES ($1, '15550001111@s.whatsapp.net', 'dm')`, [sessionId]);
  });
  afterAll(async () => {
    await client?.end();
    await database?.drop();
  });

  /** Scans of `table` by `work`, in a transaction rolled back after; the statistics of earlier transactions flushed first. */
  async function scansOf(table: string, work: () => Promise<unknown>): Promise<{ seq_scan: string; idx_scan: string }> {
    await client.query('SELECT pg_stat_force_next_flush()');
    await client.query('BEGIN');
    try {
      await work();
      return (await client.query(`SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = $1`, [table])).rows[0];
    } finally {
      await client.query('ROLLBACK');
    }
  }

  const storeOwnMessage = (waId: string) =>
    client.query(
      `INSERT INTO messages (session_id, chat_id, wa_id, from_me, remote_jid, ts, type, body)
       SELECT session_id, id, $2, true, jid, 1, 'text', 'hello' FROM chats WHERE session_id = $1 AND jid = '15550001111@s.whatsapp.net'`,
      [sessionId, waId],
    );
  const renameChat = (name: string) =>
    client.query(`UPDATE chats SET name = $2 WHERE session_id = $1 AND jid = '15550001111@s.whatsapp.net'`, [sessionId, name]);

  it('new messages: looks up the outbox by index once it is large, not by reading all of it', async () => {
    // The trigger's first run on this connection, with an empty outbox.
    await storeOwnMessage('3EB0PLAN0001');
    await client.query(
      `INSERT INTO message_outbox (session_id, message_id, org_id, jid, content, expires_at)
       SELECT $1, g, 'org-plan', '15550001111@s.whatsapp.net', '{}', now() + interval '1 day' FROM generate_series(1000, 31000) g`,
      [sessionId],
    );
    expect(await scansOf('message_outbox', () => storeOwnMessage('3EB0PLAN0002'))).toEqual({ seq_scan: '0', idx_scan: '1' });
  });

  it('publication: reads the changed chat by key once there are many chats, not all chats', async () => {
    // Publications with one chat stored: past the five runs after which PL/pgSQL keeps a generic plan.
    for (let run = 1; run <= 7; run++) await renameChat(`name ${run}`);
    await client.query(`INSERT INTO chats (session_id, jid, type) SELECT $1, (16660000000 + g) || '@s.whatsapp.net', 'dm' FROM generate_series(1, 30000) g`, [
      sessionId,
    ]);
    const scans = await scansOf('chats', async () => {
      await renameChat('renamed');
      // Publication runs at COMMIT (a deferred trigger): now, inside the transaction the scans are counted in.
      await client.query('SET CONSTRAINTS ALL IMMEDIATE');
      expect((await client.query(`SELECT count(*)::int AS n FROM event_publish_marker`)).rows[0].n).toBe(0);
    });
    expect(scans.seq_scan).toBe('0');
  });

  it("chat changes: the trigger's plan joins a statement's old and new rows without a nested loop, at any number of rows", async () => {
    // A nested loop, planned when a statement had changed one chat, made an update of 5,000 chats take 2.5 s instead of 0.2 s.
    const [{ proconfig }] = (await client.query(`SELECT proconfig FROM pg_proc WHERE proname = 'event_stage_chats'`)).rows;
    expect(proconfig).toEqual(['enable_nestloop=off']);
  });
});
