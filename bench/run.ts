/**
 * `npm run bench`: List chats under load, measured side by side with two baselines in one run.
 * See docs/performance.md for what it does, its settings and the latest figures.
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createHash } from 'node:crypto';
import { displayPageQuery } from '../src/chats/chats.repository';
import { CursorCodec } from '../src/common/pagination/cursor-codec';
import { createFreshDatabase, dropDatabase } from '../test/support/test-database';
import { BenchConfig, benchConfig } from './config';
import { Dataset, seedDataset } from './dataset';
import { explainPageQuery } from './explain';
import { runEventsPart } from './events';
import { IngestResult, runIngestBenchmark } from './ingest';
import { formatMessagesReport, runMessagesBenchmark } from './messages/messages-bench';
import { combine, drive, LoadSample } from './load';
import { summarizeProfiles } from './profile';
import { runSimulatorBenchmarks, simulatorBenchContext } from './simulator';
import { cpuSeconds, RunningServer, residentMemory, startBaseline, startGateway, waitForIdleDatabase } from './processes';
import { CaseId, evaluateTargets, formatReport, GATEWAY_TARGETS, GatewayTarget, isGatewayTarget, Report, Run, Target } from './report';

const PAGE = 50;
const BIG_PAGE = 200;
/**
 * The order of the cases within a round: both gateways' first pages right after the baseline's,
 * their deep pages right after. The two platforms swap places every other round, so neither
 * always runs first after the baseline.
 */
const RUN_ORDER = [
  'keyset:first',
  'express:first',
  'fastify:first',
  'express:deep',
  'fastify:deep',
  'keyset:deep',
  'offset:deep',
  'keyset:limit200',
  'express:limit200',
  'fastify:limit200',
];
const runOrder = (round: number): string[] =>
  round % 2 === 1
    ? RUN_ORDER
    : RUN_ORDER.map((id) =>
        id
          .replace(/^express:/, 'swap:')
          .replace(/^fastify:/, 'express:')
          .replace(/^swap:/, 'fastify:'),
      );

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

async function runNode(script: string, env: Record<string, string>): Promise<void> {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  if (code !== 0) throw new Error(`${script} exited with code ${code}`);
}

async function getText(url: string, headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return text;
}

interface Endpoints {
  gateway: Record<GatewayTarget, (query: string) => string>;
  keyset: (query: string) => string;
  offset: (query: string) => string;
  headers: Record<string, string>;
}

/**
 * Before any load: the gateway and the keyset baseline must answer byte for byte the same, and the
 * OFFSET baseline the same chats. Returns the cursor past `deepAfter` chats, found by paging the gateway.
 */
async function checkAnswersAndFindDeepCursor(endpoints: Endpoints, config: BenchConfig): Promise<string> {
  for (const platform of GATEWAY_TARGETS) {
    for (const query of [`?limit=${PAGE}`, `?limit=${BIG_PAGE}`]) {
      const [gateway, keyset] = await Promise.all([getText(endpoints.gateway[platform](query), endpoints.headers), getText(endpoints.keyset(query))]);
      if (gateway !== keyset)
        throw new Error(`the gateway (${platform}) and the baseline answer ${query} differently:\n${gateway.slice(0, 400)}\n${keyset.slice(0, 400)}`);
    }
  }
  const seen = new Set<number>();
  let cursor: string | null = null;
  for (let page = 0; page < config.deepAfter / BIG_PAGE; page++) {
    const body = JSON.parse(await getText(endpoints.gateway.express(`?limit=${BIG_PAGE}${cursor ? `&cursor=${cursor}` : ''}`), endpoints.headers)) as {
      data: { id: number }[];
      nextCursor: string | null;
    };
    body.data.forEach((chat) => seen.add(chat.id));
    cursor = body.nextCursor;
    if (!cursor) throw new Error(`paging ended after ${seen.size} chats, before ${config.deepAfter}`);
  }
  if (seen.size !== config.deepAfter) throw new Error(`paging ${config.deepAfter} chats returned ${seen.size} distinct ones`);
  const deep = `?limit=${PAGE}&cursor=${cursor}`;
  const [express, fastify, keyset, offset] = await Promise.all([
    getText(endpoints.gateway.express(deep), endpoints.headers),
    getText(endpoints.gateway.fastify(deep), endpoints.headers),
    getText(endpoints.keyset(deep)),
    getText(endpoints.offset(`?limit=${PAGE}&offset=${config.deepAfter}`)),
  ]);
  if (express !== keyset || fastify !== keyset) throw new Error('a gateway and the keyset baseline answer the deep page differently');
  if (JSON.stringify(JSON.parse(keyset).data) !== JSON.stringify(JSON.parse(offset).data)) {
    throw new Error('the keyset deep page and the OFFSET deep page hold different chats');
  }
  return cursor!;
}

async function main(): Promise<void> {
  const config = benchConfig();
  if (!existsSync('dist/main.js')) throw new Error('dist/main.js is missing: run `npm run build` (npm run bench does it first)');
  mkdirSync(config.resultsDir, { recursive: true });
  if (config.cpuProfileDir) mkdirSync(config.cpuProfileDir, { recursive: true });
  // BENCH_CASES naming none of the List chats cases (nor ingest, messages), e.g. `simulator` or `events`: no dataset to seed,
  // straight to the parts with a database and a gateway of their own.
  const listChatsSelected =
    config.caseFilter.length === 0 ||
    config.caseFilter.some((part) => RUN_ORDER.some((id) => id.includes(part)) || 'ingest'.includes(part) || 'accept'.includes(part) || part === 'messages');
  if (!listChatsSelected) {
    log(`BENCH_CASES=${config.caseFilter.join(',')}: no List chats case selected, its dataset is not seeded`);
    await runLaterParts(config);
    return;
  }

  const loadAverageAtStart = loadavg();
  const database = await createFreshDatabase(config.serverUrl, 'gw_bench');
  log(`database ${database.name}`);
  const servers: RunningServer[] = [];
  const stopAll = async () => {
    await Promise.all(servers.map((server) => server.stop().catch(() => undefined)));
    if (!config.keepDatabase) await dropDatabase(config.serverUrl, database.name).catch(() => undefined);
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));
  try {
    await runNode('dist/migrate.js', { DATABASE_URL: database.url });
    const dataset: Dataset = await seedDataset(database.url, {
      sessions: config.sessions,
      bigChats: config.bigSessionChats,
      smallChats: config.smallSessionChats,
    });
    log(`seeded ${dataset.chats} chats in ${config.sessions} sessions in ${dataset.seedSeconds.toFixed(1)} s`);

    const cursorSecret = randomBytes(24).toString('base64url');
    // Logging stays on: one JSON line per request, to a file, with the gateway's defaults unless set.
    const gatewayLogging = { level: process.env.LOG_LEVEL ?? 'info', async: process.env.LOG_ASYNC ?? 'false' };
    // Both HTTP platforms, each in its own process, built from the same dist/ (HTTP_PLATFORM).
    const gateways = {} as Record<GatewayTarget, RunningServer>;
    for (const platform of GATEWAY_TARGETS) {
      gateways[platform] = await startGateway({
        name: platform,
        env: {
          DATABASE_URL: database.url,
          CURSOR_SECRET: cursorSecret,
          HTTP_PLATFORM: platform,
          LOG_LEVEL: gatewayLogging.level,
          LOG_ASYNC: gatewayLogging.async,
          HOST: '127.0.0.1',
          // The API only: this process holds no WhatsApp connection, and stops at once when the bench ends.
          SESSION_CAPACITY: '0',
          SHUTDOWN_DELAY_MS: '0',
          // Rate limiting stays on (its per-request work is part of the hot path), with limits the load cannot reach.
          RATE_LIMIT_PER_CALLER: process.env.RATE_LIMIT_PER_CALLER ?? '10000000',
          RATE_LIMIT_PER_ORG: process.env.RATE_LIMIT_PER_ORG ?? '100000000',
        },
        logFile: join(config.resultsDir, `gateway-${platform}.log`),
        cpuProfileDir: config.cpuProfileDir && join(config.cpuProfileDir, platform),
      });
      servers.push(gateways[platform]);
    }
    const baseline = await startBaseline(
      {
        BASELINE_DATABASE_URL: database.url,
        BASELINE_CURSOR_SECRET: cursorSecret,
        BASELINE_POOL_MAX: process.env.DATABASE_PAGE_POOL_MAX ?? '10',
      },
      config.cpuProfileDir,
    );
    servers.push(baseline);
    log(
      `gateway (express) pid ${gateways.express.process.pid} on ${gateways.express.baseUrl}, gateway (fastify) pid ${gateways.fastify.process.pid} on ${gateways.fastify.baseUrl}, ` +
        `baseline pid ${baseline.process.pid} on ${baseline.baseUrl}`,
    );

    const session = dataset.bigSessionId;
    const chatsOf = (baseUrl: string) => (query: string) => `${baseUrl}/api/v1/sessions/${session}/chats${query}`;
    const endpoints: Endpoints = {
      gateway: { express: chatsOf(gateways.express.baseUrl), fastify: chatsOf(gateways.fastify.baseUrl) },
      keyset: (query) => `${baseline.baseUrl}/keyset/sessions/${session}/chats${query}`,
      offset: (query) => `${baseline.baseUrl}/offset/sessions/${session}/chats${query}`,
      headers: { authorization: `Bearer ${dataset.apiKey}` },
    };
    const deepCursor = await checkAnswersAndFindDeepCursor(endpoints, config);
    log(`both gateways and the baselines agree; deep cursor found past ${config.deepAfter} chats`);

    const deepLabel = `deep page (after ${config.deepAfter.toLocaleString('en-US')} chats, limit ${PAGE})`;
    const plan: { target: Target; caseId: CaseId; label: string; url: string; headers?: Record<string, string> }[] = [
      { target: 'keyset', caseId: 'first', label: `baseline: first page (limit ${PAGE})`, url: endpoints.keyset(`?limit=${PAGE}`) },
      ...GATEWAY_TARGETS.map((platform) => ({
        target: platform,
        caseId: 'first' as const,
        label: `gateway (${platform}): first page (limit ${PAGE})`,
        url: endpoints.gateway[platform](`?limit=${PAGE}`),
        headers: endpoints.headers,
      })),
      { target: 'keyset', caseId: 'deep', label: `baseline: ${deepLabel}`, url: endpoints.keyset(`?limit=${PAGE}&cursor=${deepCursor}`) },
      { target: 'offset', caseId: 'deep', label: `OFFSET baseline: ${deepLabel}`, url: endpoints.offset(`?limit=${PAGE}&offset=${config.deepAfter}`) },
      ...GATEWAY_TARGETS.map((platform) => ({
        target: platform,
        caseId: 'deep' as const,
        label: `gateway (${platform}): ${deepLabel}`,
        url: endpoints.gateway[platform](`?limit=${PAGE}&cursor=${deepCursor}`),
        headers: endpoints.headers,
      })),
      { target: 'keyset', caseId: 'limit200', label: `baseline: first page (limit ${BIG_PAGE})`, url: endpoints.keyset(`?limit=${BIG_PAGE}`) },
      ...GATEWAY_TARGETS.map((platform) => ({
        target: platform,
        caseId: 'limit200' as const,
        label: `gateway (${platform}): first page (limit ${BIG_PAGE})`,
        url: endpoints.gateway[platform](`?limit=${BIG_PAGE}`),
        headers: endpoints.headers,
      })),
    ];
    // The cases run in rounds (BENCH_ROUNDS), each round visiting every case once, so that a
    // gateway case and its baseline are measured minutes apart at most, under the same background
    // load; each case's figures add up its windows. Within a round, the two windows each target
    // compares run back to back (RUN_ORDER): on a shared machine the load can shift by a fifth
    // within ten seconds.
    const steps = plan
      .map((step) => ({ ...step, id: `${step.target}:${step.caseId}` }))
      .filter((step) => config.caseFilter.length === 0 || config.caseFilter.some((part) => step.id.includes(part)));
    const samples = new Map<string, LoadSample[]>(steps.map((step) => [step.id, []]));
    for (let round = 1; round <= config.rounds; round++) {
      const order = runOrder(round);
      for (const step of [...steps].sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id))) {
        const load = { url: step.url, headers: step.headers, connections: config.connections };
        await waitForIdleDatabase(database.url);
        if (round === 1 && config.warmupSeconds > 0) {
          await drive({ ...load, durationSeconds: config.warmupSeconds });
          await waitForIdleDatabase(database.url);
        }
        const pid = (isGatewayTarget(step.target) ? gateways[step.target] : baseline).process.pid!;
        const cpuBefore = cpuSeconds(pid);
        const sample = await drive({ ...load, durationSeconds: config.durationSeconds / config.rounds });
        samples.get(step.id)!.push({ ...sample, serverCpuSeconds: cpuSeconds(pid) - cpuBefore });
        const result = combine([samples.get(step.id)!.at(-1)!]);
        log(
          `round ${round}/${config.rounds} ${step.label}: ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, ` +
            `p99 ${result.p99Ms.toFixed(2)} ms, non-2xx ${result.non2xx}, errors ${result.errors}, server CPU ${result.serverCpuMicrosPerRequest!.toFixed(0)} µs/req`,
        );
      }
    }
    const sending = await runAcceptCases(config, gateways, dataset, database.url, samples);
    // Reported in the plan's order (baselines beside the gateway case they measure), not in run order.
    const displayOrder = plan.map((step) => `${step.target}:${step.caseId}`);
    const runs: Run[] = [...steps]
      .sort((a, b) => displayOrder.indexOf(a.id) - displayOrder.indexOf(b.id))
      .map((step) => ({ id: step.id, target: step.target, caseId: step.caseId, label: step.label, result: combine(samples.get(step.id)!) }));
    const gatewayMemory = Object.fromEntries(GATEWAY_TARGETS.map((platform) => [platform, residentMemory(gateways[platform].process.pid!)]));

    const codec = new CursorCodec(createHash('sha256').update(cursorSecret).digest());
    const after = codec.decode(`chats:${session}`, deepCursor, 3);
    const explain = {
      firstPage: await explainPageQuery(database.url, displayPageQuery(dataset.orgId, session, PAGE + 1), PAGE + 1),
      deepPage: await explainPageQuery(database.url, displayPageQuery(dataset.orgId, session, PAGE + 1, after), PAGE + 1),
    };
    const ingest: IngestResult =
      config.caseFilter.length && !config.caseFilter.some((part) => 'ingest'.includes(part))
        ? { skipped: 'not selected by BENCH_CASES' }
        : await runIngestBenchmark({ databaseUrl: database.url, orgId: dataset.orgId, chats: config.ingestChats, naiveChats: config.ingestNaiveChats, log });

    const client = new Client({ connectionString: database.url });
    await client.connect();
    const postgres = (await client.query('SHOW server_version')).rows[0].server_version as string;
    await client.end();

    const partial: Omit<Report, 'targets'> = {
      generatedAt: new Date().toISOString(),
      command: 'npm run bench',
      machine: {
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        postgres,
        loadAverage: { atStart: loadAverageAtStart, atEnd: loadavg() },
      },
      settings: {
        connections: config.connections,
        durationSeconds: config.durationSeconds,
        warmupSeconds: config.warmupSeconds,
        rounds: config.rounds,
        deepAfter: config.deepAfter,
        ingestChats: config.ingestChats,
        ingestNaiveChats: config.ingestNaiveChats,
        gatewayLogLevel: gatewayLogging.level,
        gatewayLogAsync: gatewayLogging.async,
        gatewayRateLimit: `on, ${process.env.RATE_LIMIT_PER_CALLER ?? '10000000'} per caller per window`,
        cases: config.caseFilter.length ? config.caseFilter : 'all',
      },
      dataset: {
        sessions: config.sessions,
        chats: dataset.chats,
        bigSessionChats: config.bigSessionChats,
        smallSessionChats: config.smallSessionChats,
        seedSeconds: dataset.seedSeconds,
      },
      runs,
      gatewayMemory,
      explain,
      ingest,
    };
    const report: Report = { ...partial, targets: evaluateTargets(partial) };
    process.stdout.write(`${formatReport(report)}\n`);
    const file = join(config.resultsDir, 'latest.json');
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${file}`);
    if (sending.length > 0) {
      process.stdout.write(`${formatAcceptReport(sending)}\n`);
      writeFileSync(join(config.resultsDir, 'sending.json'), `${JSON.stringify(sending, null, 2)}\n`);
    }
    // Messages (bench/messages/): its own dataset, cases and report, against the gateway on each platform.
    if (config.caseFilter.length === 0 || config.caseFilter.includes('messages')) {
      const messages = await runMessagesBenchmark({
        databaseUrl: database.url,
        orgId: dataset.orgId,
        apiKey: dataset.apiKey,
        gateways,
        cursorSecret,
        connections: config.connections,
        durationSeconds: config.durationSeconds,
        warmupSeconds: config.warmupSeconds,
        rounds: config.rounds,
        log,
      });
      process.stdout.write(`${formatMessagesReport(messages)}\n`);
      writeFileSync(join(config.resultsDir, 'messages.json'), `${JSON.stringify(messages, null, 2)}\n`);
    }
  } finally {
    await stopAll();
  }
  // The gateway writes its profile when it exits, so only now.
  if (config.cpuProfileDir) process.stdout.write(`\n${summarizeProfiles(config.cpuProfileDir, GATEWAY_TARGETS)}\n`);
  await runLaterParts(config);
}

interface AcceptResult {
  platform: GatewayTarget;
  accept: ReturnType<typeof combine>;
  /** List chats' first page on the same platform in this run, when it was measured. */
  firstPageRequestsPerSecond: number | null;
  ratio: number | null;
  target: number;
  pass: boolean | null;
}
const ACCEPT_TARGET = 0.5;

/**
 * Send message's accept rate (issue 17), on each platform's gateway (which holds no connection: the
 * messages stay queued): `POST /sessions/{s}/messages`, every request with its own Idempotency-Key,
 * spread over the dataset's sessions and 10,000 recipients, beside List chats' first page of the same platform and run.
 */
async function runAcceptCases(
  config: BenchConfig,
  gateways: Record<GatewayTarget, RunningServer>,
  dataset: Dataset,
  databaseUrl: string,
  listSamples: Map<string, LoadSample[]>,
): Promise<AcceptResult[]> {
  if (config.caseFilter.length > 0 && !config.caseFilter.some((part) => 'accept'.includes(part))) return [];
  const results: AcceptResult[] = [];
  // Each request to one of 10,000 people: as many senders' chats, not one chat row every request waits for.
  const body = JSON.stringify({ to: '+1555000{n}', text: 'bench: accepted, never sent (no replica holds a connection)' });
  const paths = dataset.sessionIds.map((session) => `/api/v1/sessions/${session}/messages`);
  const samples = new Map<GatewayTarget, LoadSample[]>(GATEWAY_TARGETS.map((platform) => [platform, []]));
  // The platforms take turns, and swap who goes first each round (as the List chats cases do): run
  // one after the other, each platform met the outbox and the stored chats in another state.
  for (let round = 1; round <= config.rounds; round++) {
    for (const platform of round % 2 === 1 ? GATEWAY_TARGETS : [...GATEWAY_TARGETS].reverse()) {
      const load = { url: `${gateways[platform].baseUrl}${paths[0]}`, headers: { authorization: `Bearer ${dataset.apiKey}` }, connections: config.connections };
      await waitForIdleDatabase(databaseUrl);
      // The same warm-up as every List chats case gets (JIT, each connection's first plans), with keys of its own.
      if (round === 1 && config.warmupSeconds > 0) {
        const warmup = { body, keyPrefix: `${platform}-warmup-${randomBytes(6).toString('hex')}`, paths };
        await drive({ ...load, post: warmup, durationSeconds: config.warmupSeconds });
        await waitForIdleDatabase(databaseUrl);
      }
      const pid = gateways[platform].process.pid!;
      const cpuBefore = cpuSeconds(pid);
      const post = { body, keyPrefix: `${platform}-${round}-${randomBytes(6).toString('hex')}`, paths };
      const sample = await drive({ ...load, post, durationSeconds: config.durationSeconds / config.rounds });
      samples.get(platform)!.push({ ...sample, serverCpuSeconds: cpuSeconds(pid) - cpuBefore });
      const result = combine([sample as LoadSample]);
      log(
        `round ${round}/${config.rounds} gateway (${platform}): accept (POST messages, Idempotency-Key): ${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.p99Ms.toFixed(2)} ms, non-2xx ${result.non2xx}`,
      );
    }
  }
  for (const platform of GATEWAY_TARGETS) {
    const accept = combine(samples.get(platform)!);
    const first = listSamples.get(`${platform}:first`);
    const firstPageRequestsPerSecond = first && first.length > 0 ? combine(first).requestsPerSecond : null;
    const ratio = firstPageRequestsPerSecond ? accept.requestsPerSecond / firstPageRequestsPerSecond : null;
    results.push({
      platform,
      accept,
      firstPageRequestsPerSecond,
      ratio,
      target: ACCEPT_TARGET,
      pass: ratio === null ? null : ratio >= ACCEPT_TARGET && accept.non2xx === 0,
    });
  }
  return results;
}

function formatAcceptReport(results: AcceptResult[]): string {
  const lines = ['', 'Send message accept rate (POST .../messages with an Idempotency-Key each), beside List chats first page on the same platform:'];
  for (const { platform, accept, firstPageRequestsPerSecond, ratio, pass } of results) {
    lines.push(
      `  ${platform}: accept ${accept.requestsPerSecond.toFixed(0)} req/s (p50 ${accept.p50Ms.toFixed(2)} ms, p99 ${accept.p99Ms.toFixed(2)} ms, non-2xx ${accept.non2xx}, ` +
        `server CPU ${accept.serverCpuMicrosPerRequest!.toFixed(0)} µs/req); first page ${firstPageRequestsPerSecond === null ? 'not measured' : `${firstPageRequestsPerSecond.toFixed(0)} req/s`}; ` +
        `ratio ${ratio === null ? '-' : `${ratio.toFixed(2)} x`} (target >= ${ACCEPT_TARGET} x: ${pass === null ? 'not evaluated' : pass ? 'met' : 'NOT met'})`,
    );
  }
  return lines.join('\n');
}

/** The parts with a database and gateways of their own, once the List chats ones have stopped. */
async function runLaterParts(config: BenchConfig): Promise<void> {
  if (config.caseFilter.length === 0 || config.caseFilter.includes('simulator')) await runSimulatorCases(config);
  // Events out (bench/events.ts).
  await runEventsPart(config, log);
}

/** The WhatsApp side through the simulator (bench/simulator.ts), after the List chats cases, with its own report file. */
async function runSimulatorCases(config: BenchConfig): Promise<void> {
  const result = await runSimulatorBenchmarks(simulatorBenchContext(process.env, config.serverUrl, config.resultsDir, log));
  process.stdout.write(`\nThrough the WhatsApp simulator (real Baileys socket):\n${JSON.stringify(result, null, 2)}\n`);
  const file = join(config.resultsDir, 'simulator-latest.json');
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${file}`);
}

main().catch((error: unknown) => {
  log(`failed: ${(error instanceof Error && error.stack) || String(error)}`);
  process.exit(1);
});
