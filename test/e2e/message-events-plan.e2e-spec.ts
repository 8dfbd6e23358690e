import { Client } from 'pg';
import { newSessionId } from '../../src/sessions/session-id';
import { IsolatedDatabase, isolatedDatabase } from '../support/isolated-database';

/**
 * The new-messages trigger asks the outbox, for each own message, whether it was sent through it.
 * PL/pgSQL kept that statement's plan for the life of a connection, made at its first run: a
 * connection that first stored a message while the outbox was empty scanned the whole outbox for
 * every later batch (migration 1796610000000). An isolated database: the outbox must start empty.
 */
describe('the new-messages trigger on a connection that first ran with an empty outbox', () => {
  let database: IsolatedDatabase;
  let client: Client;

  beforeAll(async () => {
    database = await isolatedDatabase();
    client = new Client({ connectionString: database.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await database?.drop();
  });

  const storeOwnMessage = (sessionId: string, waId: string) =>
    client.query(
      `INSERT INTO messages (session_id, chat_id, wa_id, from_me, remote_jid, ts, type, body)
       SELECT session_id, id, $2, true, jid, 1, 'text', 'hello' FROM chats WHERE session_id = $1`,
      [sessionId, waId],
    );

  it('looks up the outbox by index once the outbox is large, not by reading all of it', async () => {
    const sessionId = newSessionId();
    await client.query(`INSERT INTO sessions (id, org_id, name) VALUES ($1, 'org-plan', 'plan')`, [sessionId]);
    await client.query(`INSERT INTO chats (session_id, jid, type) VALUES ($1, '15550001111@s.whatsapp.net', 'dm')`, [sessionId]);
    // The trigger's first run on this connection, with an empty outbox.
    await storeOwnMessage(sessionId, '3EB0PLAN0001');
    await client.query(
      `INSERT INTO message_outbox (session_id, message_id, org_id, jid, content, expires_at)
       SELECT $1, g, 'org-plan', '15550001111@s.whatsapp.net', '{}', now() + interval '1 day' FROM generate_series(1000, 31000) g`,
      [sessionId],
    );

    // The statistics of earlier transactions flushed: the transaction below reads its own counts alone.
    await client.query('SELECT pg_stat_force_next_flush()');
    await client.query('BEGIN');
    try {
      await storeOwnMessage(sessionId, '3EB0PLAN0002');
      const [scans] = (await client.query(`SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'message_outbox'`)).rows;
      expect(scans).toEqual({ seq_scan: '0', idx_scan: '1' });
    } finally {
      await client.query('ROLLBACK');
    }
  });
});
