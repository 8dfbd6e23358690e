/**
 * What the message events cost the messages ingest (docs/events.md): the sync's bulk upsert of
 * messages (the statement MessageStore runs, in transactions of SYNC_CHUNK_SIZE-like chunks) in
 * PostgreSQL CPU per message, with the event triggers of `messages` disabled, as a live batch
 * (every message a message.received), as a history chunk (no events) and as a history chunk that
 * repeats stored messages (the update trigger compares every row), each against the same work
 * with the triggers disabled. Modes alternate over rounds so
 * that a shared machine's load falls on all of them alike; the CPU is the backend's own (/proc).
 *
 * `node --require ts-node/register/transpile-only bench/message-events-cost.ts`
 * (BENCH_COST_MESSAGES per run, default 20000; BENCH_COST_ROUNDS, default 3; DATABASE_URL: a server to create a database on).
 */
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source.options';
import { runPendingMigrations } from '../src/database/migrate';
import { newSessionId } from '../src/sessions/session-id';
import { MESSAGE_STORE_STATEMENTS } from '../src/whatsapp-sync/sync/store/message.store';
import { createFreshDatabase, dropDatabase } from '../test/support/test-database';
import { cpuSeconds } from './processes';

type Mode = 'no triggers' | 'live (message.received)' | 'history' | 'again, no triggers' | 'history again (unchanged)';
const CHUNK = 1000;
const CHATS = 50;

async function main(): Promise<void> {
  const serverUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
  const messages = Number(process.env.BENCH_COST_MESSAGES ?? 20_000);
  const rounds = Number(process.env.BENCH_COST_ROUNDS ?? 3);
  const database = await createFreshDatabase(serverUrl, 'gw_bench_msg_events');
  const client = new Client({ connectionString: database.url });
  try {
    const dataSource = await new DataSource(dataSourceOptions({ url: database.url })).initialize();
    await runPendingMigrations(dataSource);
    await dataSource.destroy();
    await client.connect();
    const [{ pid }] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
    const results = new Map<Mode, { seconds: number; cpu: number; events: number }>();

    const newSession = async () => {
      const session = newSessionId();
      await client.query(`INSERT INTO sessions (id, org_id, name) VALUES ($1, 'org-bench', 'cost')`, [session]);
      await client.query(
        `INSERT INTO chats (session_id, jid, type) SELECT $1, '1777' || lpad(g::text, 7, '0') || '@s.whatsapp.net', 'dm' FROM generate_series(1, $2) g`,
        [session, CHATS],
      );
      return session;
    };
    const rowsOf = (from: number) =>
      Array.from({ length: CHUNK }, (_, i) => {
        const n = from + i;
        const jid = `1777${String((n % CHATS) + 1).padStart(7, '0')}@s.whatsapp.net`;
        return {
          jid,
          wa_id: `3EB0${n.toString(16).padStart(12, '0')}`,
          from_me: n % 3 === 0,
          remote_jid: jid,
          push_name: 'Bench',
          ts: 1719000000000 + n,
          type: 'text',
          body: `message ${n}`,
        };
      });
    const ingest = async (session: string, history: boolean) => {
      for (let from = 0; from < messages; from += CHUNK) {
        const rows = rowsOf(from);
        await client.query('BEGIN');
        if (history) await client.query(`SELECT set_config('gateway.message_origin', 'history', true)`);
        await client.query(MESSAGE_STORE_STATEMENTS.UPSERT_MESSAGES, [session, JSON.stringify(rows), [...new Set(rows.map((row) => row.jid))]]);
        await client.query('COMMIT');
      }
    };
    const triggers = (enable: boolean) =>
      client.query(
        `ALTER TABLE messages ${enable ? 'ENABLE' : 'DISABLE'} TRIGGER messages_events_insert, ${enable ? 'ENABLE' : 'DISABLE'} TRIGGER messages_events_update`,
      );

    for (let round = 1; round <= rounds; round++) {
      for (const mode of ['no triggers', 'live (message.received)', 'history', 'again, no triggers', 'history again (unchanged)'] as Mode[]) {
        const session = await newSession();
        const again = mode === 'again, no triggers' || mode === 'history again (unchanged)';
        if (again) await ingest(session, true);
        await triggers(mode !== 'no triggers' && mode !== 'again, no triggers');
        const eventsBefore = Number((await client.query(`SELECT count(*) FROM events`)).rows[0].count);
        await client.query('CHECKPOINT');
        const cpuBefore = cpuSeconds(pid);
        const started = process.hrtime.bigint();
        await ingest(session, mode === 'history' || again);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const cpu = cpuSeconds(pid) - cpuBefore;
        const events = Number((await client.query(`SELECT count(*) FROM events`)).rows[0].count) - eventsBefore;
        await triggers(true);
        const total = results.get(mode) ?? { seconds: 0, cpu: 0, events: 0 };
        results.set(mode, { seconds: total.seconds + seconds, cpu: total.cpu + cpu, events: total.events + events });
        process.stderr.write(
          `[cost] round ${round} ${mode}: ${(messages / seconds).toFixed(0)} messages/s, ${((cpu * 1e6) / messages).toFixed(1)} µs PostgreSQL CPU per message, ${events} events\n`,
        );
      }
    }
    // Each mode against the same work without the triggers: a fresh insert, or an upsert that repeats stored rows.
    const baseOf = (mode: Mode) => results.get(mode === 'history again (unchanged)' || mode === 'again, no triggers' ? 'again, no triggers' : 'no triggers')!;
    process.stdout.write(`\nMessage events, ingest cost (${messages.toLocaleString('en-US')} messages x ${rounds} rounds per mode, upserts of ${CHUNK})\n`);
    for (const [mode, total] of results) {
      const perMessage = (total.cpu * 1e6) / (messages * rounds);
      const over = perMessage - (baseOf(mode).cpu * 1e6) / (messages * rounds);
      process.stdout.write(
        `  ${mode.padEnd(26)} ${((messages * rounds) / total.seconds).toFixed(0).padStart(7)} messages/s  ${perMessage.toFixed(1).padStart(5)} µs CPU/message (${over >= 0 ? '+' : ''}${over.toFixed(1)})  ${total.events / rounds} events per run\n`,
      );
    }
  } finally {
    await client.end().catch(() => undefined);
    await dropDatabase(serverUrl, database.name);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error instanceof Error && error.stack) || String(error)}\n`);
  process.exit(1);
});
