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
import { IngestResult, runIngestBenchmark } from './ingest';
import { combine, drive, LoadSample } from './load';
import { summarizeProfiles } from './profile';
import { cpuSeconds, RunningServer, residentMemory, startBaseline, startGateway, waitForIdleDatabase } from './processes';
import { CaseId, evaluateTargets, formatReport, Report, Run, Target } from './report';

const PAGE = 50;
const BIG_PAGE = 200;
/** The order of the cases within a round: the gateway's first page right after the baseline's, its deep page right after its first. */
const RUN_ORDER = ['keyset:first', 'gateway:first', 'gateway:deep', 'keyset:deep', 'offset:deep', 'keyset:limit200', 'gateway:limit200'];

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
  gateway: (query: string) => string;
  keyset: (query: string) => string;
  offset: (query: string) => string;
  headers: Record<string, string>;
}

/**
 * Before any load: the gateway and the keyset baseline must answer byte for byte the same, and the
 * OFFSET baseline the same chats. Returns the cursor past `deepAfter` chats, found by paging the gateway.
 */
async function checkAnswersAndFindDeepCursor(endpoints: Endpoints, config: BenchConfig): Promise<string> {
  for (const query of [`?limit=${PAGE}`, `?limit=${BIG_PAGE}`]) {
    const [gateway, keyset] = await Promise.all([getText(endpoints.gateway(query), endpoints.headers), getText(endpoints.keyset(query))]);
    if (gateway !== keyset) throw new Error(`the gateway and the baseline answer ${query} differently:\n${gateway.slice(0, 400)}\n${keyset.slice(0, 400)}`);
  }
  const seen = new Set<number>();
  let cursor: string | null = null;
  for (let page = 0; page < config.deepAfter / BIG_PAGE; page++) {
    const body = JSON.parse(
      await getText(endpoints.gateway(`?limit=${BIG_PAGE}${cursor ? `&cursor=${cursor}` : ''}`), endpoints.headers),
    ) as { data: { id: number }[]; nextCursor: string | null };
    body.data.forEach((chat) => seen.add(chat.id));
    cursor = body.nextCursor;
    if (!cursor) throw new Error(`paging ended after ${seen.size} chats, before ${config.deepAfter}`);
  }
  if (seen.size !== config.deepAfter) throw new Error(`paging ${config.deepAfter} chats returned ${seen.size} distinct ones`);
  const deep = `?limit=${PAGE}&cursor=${cursor}`;
  const [gateway, keyset, offset] = await Promise.all([
    getText(endpoints.gateway(deep), endpoints.headers),
    getText(endpoints.keyset(deep)),
    getText(endpoints.offset(`?limit=${PAGE}&offset=${config.deepAfter}`)),
  ]);
  if (gateway !== keyset) throw new Error('the gateway and the keyset baseline answer the deep page differently');
  if (JSON.stringify(JSON.parse(gateway).data) !== JSON.stringify(JSON.parse(offset).data)) {
    throw new Error('the keyset deep page and the OFFSET deep page hold different chats');
  }
  return cursor!;
}

async function main(): Promise<void> {
  const config = benchConfig();
  if (!existsSync('dist/main.js')) throw new Error('dist/main.js is missing: run `npm run build` (npm run bench does it first)');
  mkdirSync(config.resultsDir, { recursive: true });
  if (config.cpuProfileDir) mkdirSync(config.cpuProfileDir, { recursive: true });

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
    const gateway = await startGateway({
      env: {
        DATABASE_URL: database.url,
        CURSOR_SECRET: cursorSecret,
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
      logFile: join(config.resultsDir, 'gateway.log'),
      cpuProfileDir: config.cpuProfileDir,
    });
    servers.push(gateway);
    const baseline = await startBaseline({
      BASELINE_DATABASE_URL: database.url,
      BASELINE_CURSOR_SECRET: cursorSecret,
      BASELINE_POOL_MAX: process.env.DATABASE_PAGE_POOL_MAX ?? '10',
    }, config.cpuProfileDir);
    servers.push(baseline);
    log(`gateway pid ${gateway.process.pid} on ${gateway.baseUrl}, baseline pid ${baseline.process.pid} on ${baseline.baseUrl}`);

    const session = dataset.bigSessionId;
    const endpoints: Endpoints = {
      gateway: (query) => `${gateway.baseUrl}/api/v1/sessions/${session}/chats${query}`,
      keyset: (query) => `${baseline.baseUrl}/keyset/sessions/${session}/chats${query}`,
      offset: (query) => `${baseline.baseUrl}/offset/sessions/${session}/chats${query}`,
      headers: { authorization: `Bearer ${dataset.apiKey}` },
    };
    const deepCursor = await checkAnswersAndFindDeepCursor(endpoints, config);
    log(`the gateway and the baselines agree; deep cursor found past ${config.deepAfter} chats`);

    const deepLabel = `deep page (after ${config.deepAfter.toLocaleString('en-US')} chats, limit ${PAGE})`;
    const plan: { target: Target; caseId: CaseId; label: string; url: string; headers?: Record<string, string> }[] = [
      { target: 'keyset', caseId: 'first', label: `baseline: first page (limit ${PAGE})`, url: endpoints.keyset(`?limit=${PAGE}`) },
      { target: 'gateway', caseId: 'first', label: `gateway: first page (limit ${PAGE})`, url: endpoints.gateway(`?limit=${PAGE}`), headers: endpoints.headers },
      { target: 'keyset', caseId: 'deep', label: `baseline: ${deepLabel}`, url: endpoints.keyset(`?limit=${PAGE}&cursor=${deepCursor}`) },
      { target: 'offset', caseId: 'deep', label: `OFFSET baseline: ${deepLabel}`, url: endpoints.offset(`?limit=${PAGE}&offset=${config.deepAfter}`) },
      { target: 'gateway', caseId: 'deep', label: `gateway: ${deepLabel}`, url: endpoints.gateway(`?limit=${PAGE}&cursor=${deepCursor}`), headers: endpoints.headers },
      { target: 'keyset', caseId: 'limit200', label: `baseline: first page (limit ${BIG_PAGE})`, url: endpoints.keyset(`?limit=${BIG_PAGE}`) },
      { target: 'gateway', caseId: 'limit200', label: `gateway: first page (limit ${BIG_PAGE})`, url: endpoints.gateway(`?limit=${BIG_PAGE}`), headers: endpoints.headers },
    ];
    // The cases run in rounds (BENCH_ROUNDS), each round visiting every case once, so that a
    // gateway case and its baseline are measured minutes apart at most, under the same background
    // load; each case's figures add up its windows. Within a round, the two windows each target
    // compares run back to back (RUN_ORDER): on a shared machine the load can shift by a fifth
    // within ten seconds.
    const steps = plan
      .map((step) => ({ ...step, id: `${step.target}:${step.caseId}` }))
      .sort((a, b) => RUN_ORDER.indexOf(a.id) - RUN_ORDER.indexOf(b.id))
      .filter((step) => config.caseFilter.length === 0 || config.caseFilter.some((part) => step.id.includes(part)));
    const samples = new Map<string, LoadSample[]>(steps.map((step) => [step.id, []]));
    for (let round = 1; round <= config.rounds; round++) {
      for (const step of steps) {
        const load = { url: step.url, headers: step.headers, connections: config.connections };
        await waitForIdleDatabase(database.url);
        if (round === 1 && config.warmupSeconds > 0) {
          await drive({ ...load, durationSeconds: config.warmupSeconds });
          await waitForIdleDatabase(database.url);
        }
        const pid = (step.target === 'gateway' ? gateway : baseline).process.pid!;
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
    // Reported in the plan's order (baselines beside the gateway case they measure), not in run order.
    const displayOrder = plan.map((step) => `${step.target}:${step.caseId}`);
    const runs: Run[] = [...steps].sort((a, b) => displayOrder.indexOf(a.id) - displayOrder.indexOf(b.id)).map((step) => ({ id: step.id, target: step.target, caseId: step.caseId, label: step.label, result: combine(samples.get(step.id)!) }));
    const gatewayMemory = residentMemory(gateway.process.pid!);

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
      machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', postgres, loadAverage: { atStart: loadAverageAtStart, atEnd: loadavg() } },
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
  } finally {
    await stopAll();
  }
  // The gateway writes its profile when it exits, so only now.
  if (config.cpuProfileDir) process.stdout.write(`\n${summarizeProfiles(config.cpuProfileDir)}\n`);
}

main().catch((error: unknown) => {
  log(`failed: ${(error as Error)?.stack ?? error}`);
  process.exit(1);
});
