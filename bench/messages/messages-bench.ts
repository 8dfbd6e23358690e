/**
 * The messages part of `npm run bench` (issue 16), run by bench/run.ts after the chats cases:
 *
 * - List messages on a chat of 1,000,000 messages, on the gateway of each HTTP platform, against the
 *   `node:http` + `pg` baseline running the same statement (bench/messages/baseline-server.ts): the
 *   first page, a deep page (past 900,000 messages) and the deep page by LIMIT/OFFSET, with EXPLAIN
 *   of the gateway's statement.
 * - History ingest: a `messaging-history.set` carrying messages applied through the built sync
 *   (ChatSyncService.handle: mapping, queue, chunked set-based upserts), in messages/s, against a
 *   row-at-a-time baseline (one INSERT per message, each its own transaction).
 */
import { fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { CursorCodec } from '../../src/common/pagination/cursor-codec';
import { chatMessagesPageQuery } from '../../src/messages/messages.repository';
import { newSessionId } from '../../src/sessions/session-id';
import { ExplainResult, explainPageQuery } from '../explain';
import { combine, drive, LoadResult, LoadSample } from '../load';
import { cpuSeconds, RunningServer, waitForIdleDatabase } from '../processes';
import { GATEWAY_TARGETS, GatewayTarget } from '../report';

export interface MessagesBenchContext {
  databaseUrl: string;
  orgId: string;
  apiKey: string;
  gateways: Record<GatewayTarget, RunningServer>;
  cursorSecret: string;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  rounds: number;
  log: (line: string) => void;
}

export type MessagesPlan = ExplainResult;

export interface MessagesBenchReport {
  chatMessages: number;
  deepAfter: number;
  seedSeconds: number;
  runs: { id: string; label: string; result: LoadResult }[];
  explain: { firstPage: MessagesPlan; deepPage: MessagesPlan };
  ingest: {
    messages: number;
    chats: number;
    seconds: number;
    messagesPerSecond: number;
    /** CPU the ingest used in this process (the sync code) and in the bench database's PostgreSQL backends, per message */
    nodeCpuMicrosPerMessage: number;
    postgresCpuMicrosPerMessage: number;
    naiveMessages: number;
    naiveSeconds: number;
    naivePerSecond: number;
  };
  targets: { name: string; value: number; limit: number; pass: boolean }[];
}

const PAGE = 50;
const int = (name: string, fallback: number) => {
  const raw = process.env[name];
  const value = raw ? Number(raw) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};

/** Seeds one chat of `count` messages (a mix of types, two per second so the id breaks ties), in SQL. */
async function seedChat(client: Client, orgId: string, count: number): Promise<{ sessionId: string; chatId: string }> {
  const sessionId = newSessionId();
  const jid = '15559990000@s.whatsapp.net';
  await client.query(`INSERT INTO sessions (id, org_id, name) VALUES ($1, $2, 'bench messages')`, [sessionId, orgId]);
  const [{ id: chatId }] = (
    await client.query(`INSERT INTO chats (session_id, jid, type, last_message_at) VALUES ($1, $2, 'dm', $3) RETURNING id::text`, [
      sessionId,
      jid,
      1_750_000_000_000 + count * 500,
    ])
  ).rows;
  // Stored as a history sync stores them, without message.received events (docs/events.md): as live messages they were a
  // million events, which the gateways' event tails and webhook dispatchers then read during the first measured rounds.
  await client.query(`SELECT set_config('gateway.message_origin', 'history', false)`);
  for (let from = 1; from <= count; from += 250_000) {
    await client.query(
      `INSERT INTO messages (session_id, chat_id, wa_id, from_me, remote_jid, sender_jid, push_name, ts, type, body, media, status)
       SELECT $1, $2, 'BENCH' || lpad(g::text, 9, '0'), g % 3 = 0, $3, CASE WHEN g % 3 <> 0 THEN $3 END, CASE WHEN g % 3 <> 0 THEN 'Alice' END,
         1750000000000 + (g / 2) * 1000,
         CASE WHEN g % 10 = 0 THEN 'image' ELSE 'text' END,
         'message number ' || g || ' of the benchmark chat',
         CASE WHEN g % 10 = 0 THEN '{"mimetype":"image/jpeg","size":48213,"width":1280,"height":960}'::jsonb END,
         CASE WHEN g % 3 = 0 THEN 5 END
       FROM generate_series($4::int, $5::int) AS g`,
      [sessionId, chatId, jid, from, Math.min(count, from + 249_999)],
    );
  }
  await client.query(`SELECT set_config('gateway.message_origin', '', false)`);
  await client.query('ANALYZE messages');
  return { sessionId, chatId };
}

async function startMessagesBaseline(env: Record<string, string>): Promise<RunningServer> {
  const child = fork(resolve(__dirname, 'baseline-server.ts'), [], {
    env: { ...process.env, ...env },
    execArgv: ['--require', 'ts-node/register/transpile-only'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((done, fail) => {
    child.once('message', (message: { port: number }) => done(message.port));
    child.once('exit', (code) => fail(new Error(`the messages baseline exited during start-up (code ${code})`)));
  });
  return {
    name: 'messages baseline',
    baseUrl: `http://127.0.0.1:${port}`,
    process: child,
    stop: async () => {
      if (child.connected) child.disconnect();
      await new Promise((done) => (child.exitCode !== null ? done(undefined) : child.once('exit', done)));
    },
  };
}

/** Each hash partition's (chat, ts, id) index: the page reads one of them backward. */
const MESSAGES_PAGE_INDEX = /^messages_p\d+_chat_id_ts_id_idx$/;

/** A history payload of `chats` conversations with `perChat` messages each: 80% text, 10% replies with mentions, 10% images with media keys. */
function historyWithMessages(chats: number, perChat: number, prefix: string) {
  const conversations = [];
  const messages = [];
  for (let c = 0; c < chats; c++) {
    const jid = `1666${String(c).padStart(7, '0')}@s.whatsapp.net`;
    conversations.push({ id: jid, conversationTimestamp: 1_750_000_000 + perChat, unreadCount: c % 4 });
    for (let i = 0; i < perChat; i++) {
      const kind = i % 10;
      const key = { remoteJid: jid, fromMe: i % 3 === 0, id: `${prefix}${c}X${i}` };
      const message =
        kind === 9
          ? {
              imageMessage: {
                mimetype: 'image/jpeg',
                fileLength: 48213,
                width: 1280,
                height: 960,
                caption: `photo ${i}`,
                mediaKey: randomBytes(32),
                fileEncSha256: randomBytes(32),
                directPath: `/v/t62/${i}`,
              },
            }
          : kind === 8
            ? {
                extendedTextMessage: {
                  text: `reply ${i} to @1555`,
                  contextInfo: { stanzaId: `${prefix}${c}X${i - 1}`, mentionedJid: ['15550000001@s.whatsapp.net'] },
                },
              }
            : { conversation: `history message ${i} of chat ${c}` };
      messages.push({ key, messageTimestamp: 1_750_000_000 + i, pushName: key.fromMe ? undefined : 'Alice', status: key.fromMe ? 4 : undefined, message });
    }
  }
  return { conversations, messages };
}

/** The PostgreSQL backends connected to the bench database (the sync's pool after its warm-up), to read their CPU time from /proc. */
async function databaseBackends(client: Client): Promise<number[]> {
  const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  return rows.map((row) => row.pid);
}

export async function measureIngest(context: MessagesBenchContext, client: Client): Promise<MessagesBenchReport['ingest']> {
  const { databaseUrl, orgId, log } = context;
  const chats = int('BENCH_INGEST_MESSAGE_CHATS', 200);
  const perChat = int('BENCH_INGEST_MESSAGES_PER_CHAT', 1000);
  const naiveMessages = int('BENCH_INGEST_NAIVE_MESSAGES', 20_000);
  const [warmup, synced, naive] = [newSessionId(), newSessionId(), newSessionId()];
  await client.query(`INSERT INTO sessions (id, org_id, name) SELECT id, $2, 'bench message ingest' FROM unnest($1::text[]) AS s(id)`, [
    [warmup, synced, naive],
    orgId,
  ]);
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NestFactory } = require('@nestjs/core') as typeof import('@nestjs/core');
  const { CliModule } = require(resolve('dist/cli/cli.module.js')) as typeof import('../../src/cli/cli.module');
  const { AppConfig } = require(resolve('dist/config/app-config.js')) as typeof import('../../src/config/app-config');
  const { ChatSyncService } = require(
    resolve('dist/whatsapp-sync/sync/chat-sync.service.js'),
  ) as typeof import('../../src/whatsapp-sync/sync/chat-sync.service');
  const config = AppConfig.fromEnvironment({ ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', SESSION_CAPACITY: '0' });
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(config), { logger: ['error', 'warn'] });
  try {
    const sync = app.get(ChatSyncService);
    const set = (history: ReturnType<typeof historyWithMessages>) =>
      ({
        'messaging-history.set': { chats: history.conversations, contacts: [], messages: history.messages, syncType: 2, progress: 100, isLatest: false },
      }) as never;
    await sync.handle(warmup, set(historyWithMessages(20, 500, 'W')));
    const history = historyWithMessages(chats, perChat, 'M');
    await client.query('CHECKPOINT');
    log(`messages ingest: a history batch of ${history.messages.length.toLocaleString('en-US')} messages in ${chats} chats through the sync`);
    // A backend that starts during the ingest counts from zero; one that ends before it is read is missed.
    const backendsBefore = new Map((await databaseBackends(client)).map((pid) => [pid, cpuSeconds(pid)]));
    const nodeBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    await sync.handle(synced, set(history));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const nodeCpu = process.cpuUsage(nodeBefore);
    const postgresCpu = (await databaseBackends(client)).reduce((sum, pid) => sum + cpuSeconds(pid) - (backendsBefore.get(pid) ?? 0), 0);
    const stored = Number((await client.query('SELECT count(*) FROM messages WHERE session_id = $1', [synced])).rows[0].count);
    if (stored !== history.messages.length) throw new Error(`the sync stored ${stored} messages of ${history.messages.length}`);

    // Row at a time: one INSERT ... ON CONFLICT per message, each its own transaction, into the same table,
    // as history (the sync stores a history chunk without message.received events: docs/events.md).
    await client.query(`SELECT set_config('gateway.message_origin', 'history', false)`);
    const [{ id: chatId }] = (
      await client.query(`INSERT INTO chats (session_id, jid, type) VALUES ($1, '16660000000@s.whatsapp.net', 'dm') RETURNING id`, [naive])
    ).rows;
    await client.query('CHECKPOINT');
    log(`messages ingest: the row-at-a-time baseline inserts ${naiveMessages.toLocaleString('en-US')} messages`);
    const naiveStarted = process.hrtime.bigint();
    for (const message of history.messages.slice(0, naiveMessages)) {
      const content = message.message as Record<string, any>;
      const body = content.conversation ?? content.extendedTextMessage?.text ?? content.imageMessage?.caption ?? null;
      await client.query(
        `INSERT INTO messages (session_id, chat_id, wa_id, from_me, remote_jid, sender_jid, push_name, ts, type, body, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (chat_id, wa_id, from_me, session_id) DO UPDATE SET body = EXCLUDED.body`,
        [
          naive,
          chatId,
          message.key.id,
          message.key.fromMe,
          message.key.remoteJid,
          message.key.fromMe ? null : message.key.remoteJid,
          message.pushName ?? null,
          message.messageTimestamp * 1000,
          content.imageMessage ? 'image' : 'text',
          body,
          message.status ?? null,
        ],
      );
    }
    const naiveSeconds = Number(process.hrtime.bigint() - naiveStarted) / 1e9;
    await client.query(`SELECT set_config('gateway.message_origin', '', false)`);
    return {
      messages: history.messages.length,
      chats,
      seconds,
      messagesPerSecond: history.messages.length / seconds,
      nodeCpuMicrosPerMessage: (nodeCpu.user + nodeCpu.system) / history.messages.length,
      postgresCpuMicrosPerMessage: (postgresCpu * 1e6) / history.messages.length,
      naiveMessages,
      naiveSeconds,
      naivePerSecond: naiveMessages / naiveSeconds,
    };
  } finally {
    await app.close();
  }
}

/**
 * The cases in the order a round runs them: as listed in odd rounds; in even rounds the gateways
 * and the baseline swap places within each group (first page, deep page), as the List chats bench
 * swaps its two platforms. Always first, the gateway's first page cost more CPU per request than
 * its deep page in every run (2,967 against 2,249, 3,049 against 2,170 µs...) while the baseline's
 * two cost the same: a case's place in the round weighed on the ratio, not only the route's work.
 */
function stepsOfRound<T extends { id: string }>(steps: T[], round: number): T[] {
  if (round % 2 === 1) return steps;
  const gateways = [...GATEWAY_TARGETS].reverse();
  const swapped = [
    ...gateways.map((platform) => `${platform}:first`),
    'keyset:first',
    'keyset:deep',
    ...gateways.map((platform) => `${platform}:deep`),
    'offset:deep',
  ];
  return [...steps].sort((a, b) => swapped.indexOf(a.id) - swapped.indexOf(b.id));
}

export async function runMessagesBenchmark(context: MessagesBenchContext): Promise<MessagesBenchReport> {
  const { databaseUrl, log } = context;
  const count = int('BENCH_CHAT_MESSAGES', 1_000_000);
  const deepAfter = int('BENCH_MESSAGES_DEEP_AFTER', 900_000);
  if (deepAfter >= count) throw new Error('BENCH_MESSAGES_DEEP_AFTER must be below BENCH_CHAT_MESSAGES');
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const baseline = await startMessagesBaseline({
    BASELINE_DATABASE_URL: databaseUrl,
    BASELINE_CURSOR_SECRET: context.cursorSecret,
    BASELINE_POOL_MAX: process.env.DATABASE_PAGE_POOL_MAX ?? '10',
  });
  try {
    const seedStarted = process.hrtime.bigint();
    const { sessionId, chatId } = await seedChat(client, context.orgId, count);
    const seedSeconds = Number(process.hrtime.bigint() - seedStarted) / 1e9;
    log(`messages: seeded a chat of ${count.toLocaleString('en-US')} messages in ${seedSeconds.toFixed(1)} s`);

    const codec = new CursorCodec(createHash('sha256').update(context.cursorSecret).digest());
    const scope = `messages:${sessionId}:${chatId}`;
    const deepRow = (
      await client.query(
        `SELECT ts::text, id::text FROM messages WHERE session_id = $1 AND chat_id = $2 AND ts IS NOT NULL ORDER BY ts DESC, id DESC OFFSET $3 LIMIT 1`,
        [sessionId, chatId, deepAfter - 1],
      )
    ).rows[0];
    const after = [BigInt(deepRow.ts), BigInt(deepRow.id)];
    const deepCursor = codec.encode(scope, after);
    const path = `/sessions/${sessionId}/chats/${chatId}/messages`;
    const gateway = (platform: GatewayTarget, query: string) => `${context.gateways[platform].baseUrl}/api/v1${path}${query}`;
    const keyset = (query: string) => `${baseline.baseUrl}/keyset${path}${query}`;
    const offset = (query: string) => `${baseline.baseUrl}/offset${path}${query}`;
    const headers = { authorization: `Bearer ${context.apiKey}` };
    // Both gateways and the baseline answer the same bytes, first page and deep page.
    for (const query of [`?limit=${PAGE}`, `?limit=${PAGE}&cursor=${deepCursor}`]) {
      const theirs = await fetch(keyset(query)).then((r) => r.text());
      for (const platform of GATEWAY_TARGETS) {
        const ours = await fetch(gateway(platform, query), { headers }).then((r) => r.text());
        if (ours !== theirs)
          throw new Error(`the gateway (${platform}) and the messages baseline answer ${query} differently:\n${ours.slice(0, 300)}\n${theirs.slice(0, 300)}`);
      }
    }
    const offsetPage = JSON.parse(await fetch(offset(`?limit=${PAGE}&offset=${deepAfter}`)).then((r) => r.text()));
    const keysetPage = JSON.parse(await fetch(keyset(`?limit=${PAGE}&cursor=${deepCursor}`)).then((r) => r.text()));
    if (JSON.stringify(offsetPage.data) !== JSON.stringify(keysetPage.data)) throw new Error('the OFFSET baseline does not answer the same deep page');
    log(`messages: the gateway and the baselines agree; deep cursor past ${deepAfter.toLocaleString('en-US')} messages`);

    const deepLabel = `deep page (after ${deepAfter.toLocaleString('en-US')} messages, limit ${PAGE})`;
    const gatewaySteps = (caseId: 'first' | 'deep', label: string, query: string) =>
      GATEWAY_TARGETS.map((platform) => ({
        id: `${platform}:${caseId}`,
        label: `gateway (${platform}): ${label}`,
        url: gateway(platform, query),
        headers,
        server: context.gateways[platform],
      }));
    const steps: { id: string; label: string; url: string; headers?: Record<string, string>; server: RunningServer }[] = [
      { id: 'keyset:first', label: `baseline: first page (limit ${PAGE})`, url: keyset(`?limit=${PAGE}`), server: baseline },
      ...gatewaySteps('first', `first page (limit ${PAGE})`, `?limit=${PAGE}`),
      ...gatewaySteps('deep', deepLabel, `?limit=${PAGE}&cursor=${deepCursor}`),
      { id: 'keyset:deep', label: `baseline: ${deepLabel}`, url: keyset(`?limit=${PAGE}&cursor=${deepCursor}`), server: baseline },
      { id: 'offset:deep', label: `OFFSET baseline: ${deepLabel}`, url: offset(`?limit=${PAGE}&offset=${deepAfter}`), server: baseline },
    ];
    const samples = new Map<string, LoadSample[]>(steps.map((step) => [step.id, []]));
    for (let round = 1; round <= context.rounds; round++) {
      for (const step of stepsOfRound(steps, round)) {
        const load = { url: step.url, headers: step.headers, connections: context.connections };
        await waitForIdleDatabase(databaseUrl);
        if (round === 1 && context.warmupSeconds > 0) {
          await drive({ ...load, durationSeconds: context.warmupSeconds });
          await waitForIdleDatabase(databaseUrl);
        }
        const pid = step.server.process.pid!;
        const cpuBefore = cpuSeconds(pid);
        const sample = await drive({ ...load, durationSeconds: context.durationSeconds / context.rounds });
        samples.get(step.id)!.push({ ...sample, serverCpuSeconds: cpuSeconds(pid) - cpuBefore });
        const result = combine([samples.get(step.id)!.at(-1)!]);
        log(
          `messages round ${round}/${context.rounds} ${step.label}: ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, non-2xx ${result.non2xx}, errors ${result.errors}`,
        );
      }
    }
    const runs = steps.map((step) => ({ id: step.id, label: step.label, result: combine(samples.get(step.id)!) }));
    const explain = {
      firstPage: await explainPageQuery(databaseUrl, chatMessagesPageQuery(context.orgId, sessionId, BigInt(chatId), PAGE + 1), PAGE + 1, MESSAGES_PAGE_INDEX),
      deepPage: await explainPageQuery(
        databaseUrl,
        chatMessagesPageQuery(context.orgId, sessionId, BigInt(chatId), PAGE + 1, after),
        PAGE + 1,
        MESSAGES_PAGE_INDEX,
      ),
    };
    const ingest = await measureIngest(context, client);
    const run = (id: string) => runs.find((r) => r.id === id)!.result;
    const targets = [
      ...GATEWAY_TARGETS.flatMap((platform) => [
        {
          name: `first page: gateway (${platform}) req/s / baseline req/s`,
          value: run(`${platform}:first`).requestsPerSecond / run('keyset:first').requestsPerSecond,
          limit: 0.8,
          pass: false,
        },
        {
          name: `deep page p50 / first page p50 (${platform})`,
          value: run(`${platform}:deep`).p50Ms / run(`${platform}:first`).p50Ms,
          limit: 1.2,
          pass: false,
        },
        {
          name: `deep page: gateway (${platform}) req/s / OFFSET req/s`,
          value: run(`${platform}:deep`).requestsPerSecond / run('offset:deep').requestsPerSecond,
          limit: 10,
          pass: false,
        },
      ]),
      { name: 'history ingest, messages/s', value: ingest.messagesPerSecond, limit: 50_000, pass: false },
      { name: 'history ingest / row-at-a-time', value: ingest.messagesPerSecond / ingest.naivePerSecond, limit: 10, pass: false },
    ].map((target) => ({ ...target, pass: target.name.startsWith('deep page p50') ? target.value <= target.limit : target.value >= target.limit }));
    return { chatMessages: count, deepAfter, seedSeconds, runs, explain, ingest, targets };
  } finally {
    await baseline.stop();
    await client.end();
  }
}

export function formatMessagesReport(report: MessagesBenchReport): string {
  const lines = [
    '',
    `## Messages (a chat of ${report.chatMessages.toLocaleString('en-US')} messages)`,
    '',
    '| case | req/s | p50 ms | p90 ms | p99 ms | non-2xx | server CPU µs/req |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...report.runs.map(
      ({ label, result }) =>
        `| ${label} | ${result.requestsPerSecond.toFixed(0)} | ${result.p50Ms.toFixed(2)} | ${result.p90Ms.toFixed(2)} | ${result.p99Ms.toFixed(2)} | ${result.non2xx + result.errors} | ${result.serverCpuMicrosPerRequest?.toFixed(0) ?? '-'} |`,
    ),
    '',
    `History ingest: ${report.ingest.messages.toLocaleString('en-US')} messages in ${report.ingest.chats} chats in ${report.ingest.seconds.toFixed(2)} s = ${report.ingest.messagesPerSecond.toFixed(0)} messages/s ` +
      `(CPU per message: ${report.ingest.nodeCpuMicrosPerMessage.toFixed(1)} µs in the sync's Node process, ${report.ingest.postgresCpuMicrosPerMessage.toFixed(1)} µs in PostgreSQL); ` +
      `row at a time: ${report.ingest.naiveMessages.toLocaleString('en-US')} in ${report.ingest.naiveSeconds.toFixed(2)} s = ${report.ingest.naivePerSecond.toFixed(0)} messages/s`,
    '',
    '| target | value | limit | |',
    '| --- | ---: | ---: | --- |',
    ...report.targets.map(
      (t) => `| ${t.name} | ${t.value.toFixed(2)} | ${t.name.startsWith('deep page p50') ? '<=' : '>='} ${t.limit} | ${t.pass ? 'pass' : 'FAIL'} |`,
    ),
    '',
    `EXPLAIN of the gateway's first page (${report.explain.firstPage.indexScan}, sort: ${report.explain.firstPage.hasSort}, rows read ${report.explain.firstPage.rowsRead}, generic plans ${report.explain.firstPage.genericPlans}, custom ${report.explain.firstPage.customPlans}, ${report.explain.firstPage.ok ? 'ok' : 'NOT OK'}):`,
    '```',
    report.explain.firstPage.plan,
    '```',
    `EXPLAIN of the gateway's deep page (${report.explain.deepPage.indexScan}, sort: ${report.explain.deepPage.hasSort}, rows read ${report.explain.deepPage.rowsRead}, ${report.explain.deepPage.ok ? 'ok' : 'NOT OK'}):`,
    '```',
    report.explain.deepPage.plan,
    '```',
  ];
  return lines.join('\n');
}
