import type { QueryRunner } from 'typeorm';
import { listedChat, syncSink } from '../support/sync-helpers';
import { TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const T0 = 1_719_000_000; // seconds
const JID = '15550001234@s.whatsapp.net';
const CHUNK = 50;

/**
 * A large history sync's message chunks are written two transactions at a time
 * (ChatSyncService.applyMessageTransactions, docs/sync.md "How it runs"): a chunk that waits does
 * not hold up the others, and messages that several chunks carry still merge into one row.
 */
describe('History sync: message chunks written two at a time', () => {
  let app: TestApp;
  let blocker: QueryRunner;

  beforeAll(async () => {
    app = await TestApp.start({ SYNC_CHUNK_SIZE: String(CHUNK) });
    blocker = app.dataSource.createQueryRunner();
    await blocker.connect();
  });
  afterAll(async () => {
    await blocker.release();
    await app.close();
  });

  it('while one chunk waits on a lock, later chunks commit; then every message is stored once, duplicates merged', async () => {
    const tenant = await app.createTenant(['read']);
    const sink = syncSink(app);
    const conversation = { id: JID, conversationTimestamp: T0 + 400 };
    await sink.handle(tenant.sessionId, {
      'messaging-history.set': { chats: [conversation], contacts: [], messages: [], syncType: 2, progress: 10, isLatest: false },
    });
    const chatId = (await listedChat(app, tenant, JID))!.id;

    // 400 messages (eight chunks), then 60 of them again with a further status (two more chunks).
    const messages = Array.from({ length: 400 }, (_, i) => ({
      key: { remoteJid: JID, fromMe: true, id: `P${i}` },
      messageTimestamp: T0 + i,
      status: 2,
      message: { conversation: `message ${i}` },
    }));
    const again = messages.slice(0, 60).map((m) => ({ ...m, status: 4 }));

    // Another transaction holds the first message's key: the first chunk's upsert waits for it
    // (for as long as the test needs: the gateway's connections end a transaction idle for 15 s).
    await blocker.query('SET idle_in_transaction_session_timeout = 0');
    await blocker.startTransaction();
    await blocker.query(`INSERT INTO messages (session_id, chat_id, wa_id, from_me, remote_jid, ts) VALUES ($1, $2, 'P0', true, $3, $4)`, [
      tenant.sessionId,
      chatId,
      JID,
      T0 * 1000,
    ]);
    const synced = sink.handle(tenant.sessionId, {
      'messaging-history.set': { chats: [], contacts: [], messages: [...messages, ...again], syncType: 2, progress: 100, isLatest: false },
    });
    let settled = false;
    void synced.finally(() => (settled = true)).catch(() => undefined);

    // One chunk at a time, nothing would commit until the lock is released.
    const committed = async () => Number((await app.dataSource.query(`SELECT count(*) AS n FROM messages WHERE session_id = $1`, [tenant.sessionId]))[0].n);
    await waitFor(async () => (await committed()) >= 7 * CHUNK);
    expect(settled).toBe(false);
    expect(await committed()).toBeLessThan(400);

    await blocker.rollbackTransaction();
    await synced;
    const rows: { wa_id: string; status: number; body: string }[] = await app.dataSource.query(
      `SELECT wa_id, status, body FROM messages WHERE session_id = $1 ORDER BY ts`,
      [tenant.sessionId],
    );
    expect(rows).toHaveLength(400);
    expect(rows.map((row) => row.wa_id)).toEqual(messages.map((m) => m.key.id));
    // Sent (3, Baileys' 2) for all; read (5, Baileys' 4) for the 60 that came twice, whichever chunk came first.
    expect(rows.map((row) => row.status)).toEqual(messages.map((_, i) => (i < 60 ? 5 : 3)));
    expect(rows.every((row, i) => row.body === `message ${i}`)).toBe(true);
  });
});
