/**
 * Events out, measured (part of `npm run bench`, docs/events.md): webhook deliveries per second of
 * one replica to a loopback receiver, change-to-delivery latency at a steady 500 events/s, and SSE
 * fan-out latency to 1,000 subscribers. The gateway is the built one (dist/main.js) in its own
 * process, on a database of its own; the receiver and the subscribers live in this process.
 */
import { once } from 'node:events';
import http from 'node:http';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { generateApiKey, hashSecret } from '../src/auth/api-keys/api-key-token';
import { dataSourceOptions } from '../src/database/data-source.options';
import { runPendingMigrations } from '../src/database/migrate';
import { newSessionId } from '../src/sessions/session-id';
import { createFreshDatabase, dropDatabase } from '../test/support/test-database';
import { BenchConfig, benchConfig } from './config';
import { cpuSeconds, startGateway } from './processes';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface EventsBenchOptions {
  serverUrl: string;
  resultsDir: string;
  log: (line: string) => void;
  /** Events in the throughput burst. */
  burst?: number;
  /** Seconds of the steady 500 events/s phase. */
  steadySeconds?: number;
  subscribers?: number;
  keepDatabase?: boolean;
}

/** CPU time per delivery of a phase: in the gateway's process, and in the PostgreSQL backends the gateway holds (its pools, the tail's LISTEN). */
export interface DeliveryCpu {
  gatewayMicrosPerDelivery: number;
  postgresMicrosPerDelivery: number;
}

export interface EventsBenchResult {
  deliveriesPerSecond: number;
  burstEvents: number;
  burstCpu: DeliveryCpu;
  /** ratePerSecond: the target; offeredPerSecond: what this process managed to send (below the target on a loaded machine). */
  steady: {
    ratePerSecond: number;
    offeredPerSecond: number;
    events: number;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
    /** From before the UPDATE to its commit answered: the change's own share of the latency (event publication serializes commits). */
    commitP50Ms: number;
    commitP99Ms: number;
    cpu: DeliveryCpu;
  };
  fanOut: { subscribers: number; events: number; messages: number; p50Ms: number; p99Ms: number; maxMs: number };
  targets: { name: string; value: number; target: string; met: boolean }[];
}

/** How long a phase may wait for its deliveries before the bench fails, instead of hanging. */
const DELIVERY_DEADLINE_MS = 120_000;

async function within(done: Promise<void>, ms: number, progress: () => string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`events: not delivered within ${ms / 1000} s (${progress()})`)), ms);
  });
  try {
    await Promise.race([done, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * CPU used by the gateway process and by its PostgreSQL backends (application_name
 * `whatsapp-gateway...`, so not this process's own writes) between `start` and `stop`. The backends
 * are looked up every 250 ms: one that starts in between counts from zero, one that ends counts up
 * to its last look.
 */
async function meterCpu(db: Pool, gatewayPid: number): Promise<{ stop: (deliveries: number) => Promise<DeliveryCpu> }> {
  const backends = async () =>
    (
      await db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'whatsapp-gateway%'`)
    ).rows.map((row) => row.pid);
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const look = async () => {
    for (const pid of await backends()) {
      const used = cpuSeconds(pid);
      if (Number.isNaN(used)) continue;
      if (!first.has(pid)) first.set(pid, 0);
      last.set(pid, used);
    }
  };
  // Every backend there at the start counts from its CPU now; later ones from zero.
  for (const pid of await backends()) {
    const used = cpuSeconds(pid);
    if (Number.isNaN(used)) continue;
    first.set(pid, used);
    last.set(pid, used);
  }
  const gatewayBefore = cpuSeconds(gatewayPid);
  const timer = setInterval(() => void look().catch(() => undefined), 250);
  return {
    stop: async (deliveries) => {
      clearInterval(timer);
      await look();
      const gateway = cpuSeconds(gatewayPid) - gatewayBefore;
      let postgres = 0;
      for (const [pid, used] of last) postgres += used - (first.get(pid) ?? 0);
      return { gatewayMicrosPerDelivery: (gateway * 1e6) / deliveries, postgresMicrosPerDelivery: (postgres * 1e6) / deliveries };
    },
  };
}

const formatCpu = (cpu: DeliveryCpu) =>
  `CPU per delivery: gateway ${cpu.gatewayMicrosPerDelivery.toFixed(0)} µs, PostgreSQL ${cpu.postgresMicrosPerDelivery.toFixed(0)} µs`;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))];
const sortedNumbers = (values: number[]) => [...values].sort((a, b) => a - b);

/** A loopback receiver answering 200 at once, calling `onDelivery` with each event. */
async function startReceiver(
  onDelivery: (event: { id: string; data: { jid: string } }, receivedAt: number) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const receivedAt = performance.timeOrigin + performance.now();
      res.writeHead(204).end();
      onDelivery(JSON.parse(Buffer.concat(chunks).toString('utf8')), receivedAt);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    close: () => {
      server.closeAllConnections();
      return new Promise((done) => server.close(() => done()));
    },
  };
}

export async function runEventsBenchmark(options: EventsBenchOptions): Promise<EventsBenchResult> {
  const { log } = options;
  const burst = options.burst ?? 20_000;
  const steadySeconds = options.steadySeconds ?? 20;
  const subscribers = options.subscribers ?? 1000;
  const database = await createFreshDatabase(options.serverUrl, 'gw_bench_events');
  const dataSource = await new DataSource(dataSourceOptions({ url: database.url })).initialize();
  await runPendingMigrations(dataSource);
  await dataSource.destroy();

  const db = new Pool({ connectionString: database.url, max: 16 });
  const orgId = 'org-bench-events';
  const sessionId = newSessionId();
  const key = generateApiKey();
  await db.query(`INSERT INTO sessions (id, org_id, name, status) VALUES ($1, $2, 'bench', 'connected')`, [sessionId, orgId]);
  await db.query(`INSERT INTO api_keys (id, org_id, name, secret_hash, capabilities) VALUES ($1, $2, 'bench', $3, '{read,admin}')`, [
    key.id,
    orgId,
    hashSecret(key.secret),
  ]);
  const chatCount = Math.max(burst, 500 * steadySeconds);
  await db.query(
    `INSERT INTO chats (session_id, jid, type, name) SELECT $1, '62' || (800000000000 + g) || '@s.whatsapp.net', 'dm', 'chat ' || g FROM generate_series(1, $2) g`,
    [sessionId, chatCount],
  );

  const gateway = await startGateway({
    name: 'gateway-events',
    env: {
      DATABASE_URL: database.url,
      SESSION_CAPACITY: '0',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_ENABLED: 'false',
      WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8',
      EVENTS_POLL_INTERVAL_MS: '1000',
    },
    logFile: `${options.resultsDir}/events-gateway.log`,
  });
  const headers = { authorization: `Bearer ${key.token}`, 'content-type': 'application/json' };
  let onDelivery: (event: { id: string; data: { jid: string } }, receivedAt: number) => void = () => undefined;
  const receiver = await startReceiver((event, at) => onDelivery(event, at));
  try {
    const created = await fetch(`${gateway.baseUrl}/api/v1/webhooks`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ url: receiver.url, eventTypes: ['chat.updated'] }),
    });
    if (created.status !== 201) throw new Error(`creating the webhook answered ${created.status}: ${await created.text()}`);

    // 1. Throughput: one transaction changes `burst` chats (as a history sync does); every event is delivered once.
    log(`events: ${burst} events in one transaction, delivered to a loopback receiver`);
    const received = new Set<string>();
    let first = 0;
    let last = 0;
    const burstDone = new Promise<void>((done) => {
      onDelivery = (event, at) => {
        if (received.size === 0) first = at;
        received.add(event.id);
        last = at;
        if (received.size === burst) done();
      };
    });
    const burstMeter = await meterCpu(db, gateway.process.pid!);
    await db.query(`UPDATE chats SET name = name || ' *' WHERE session_id = $1 AND id IN (SELECT id FROM chats WHERE session_id = $1 ORDER BY id LIMIT $2)`, [
      sessionId,
      burst,
    ]);
    // From the commit: what is measured is the delivery of committed events, not the update itself.
    const committed = performance.timeOrigin + performance.now();
    await within(burstDone, DELIVERY_DEADLINE_MS, () => `${received.size} of ${burst} burst events delivered`);
    const burstCpu = await burstMeter.stop(burst);
    const deliveriesPerSecond = burst / ((last - committed) / 1000);
    log(
      `events: ${burst} deliveries in ${Math.round(last - committed)} ms (first after ${Math.round(first - committed)} ms): ${Math.round(deliveriesPerSecond)}/s; ${formatCpu(burstCpu)}`,
    );

    // 2. Latency at a steady 500 events/s: one chat per transaction, change committed -> delivery received.
    const rate = 500;
    const total = rate * steadySeconds;
    log(`events: ${total} changes at ${rate}/s, one per transaction`);
    // Each change is timed from just before its UPDATE is sent (so the figure includes the commit),
    // and the time is recorded before the delivery can possibly arrive.
    const changedAt = new Map<string, number>();
    const latencies: number[] = [];
    const steadyDone = new Promise<void>((done) => {
      onDelivery = (event, at) => {
        const start = changedAt.get(event.data.jid);
        if (start === undefined) return;
        changedAt.delete(event.data.jid);
        latencies.push(at - start);
        if (latencies.length === total) done();
      };
    });
    const jids: string[] = (await db.query(`SELECT jid FROM chats WHERE session_id = $1 ORDER BY id LIMIT $2`, [sessionId, total])).rows.map((row) => row.jid);
    const steadyMeter = await meterCpu(db, gateway.process.pid!);
    const began = performance.now();
    const writes: Promise<void>[] = [];
    const commitLatencies: number[] = [];
    for (let i = 0; i < total; i++) {
      const due = began + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((done) => setTimeout(done, wait));
      const jid = jids[i];
      const sent = performance.timeOrigin + performance.now();
      changedAt.set(jid, sent);
      writes.push(
        db
          .query(`UPDATE chats SET name = $3 WHERE session_id = $1 AND jid = $2`, [sessionId, jid, `steady ${i}`])
          .then(() => void commitLatencies.push(performance.timeOrigin + performance.now() - sent)),
      );
    }
    const offered = (performance.now() - began) / 1000;
    await Promise.all(writes);
    await within(steadyDone, DELIVERY_DEADLINE_MS, () => `${latencies.length} of ${total} steady events delivered`);
    const steadyCpu = await steadyMeter.stop(total);
    const steadySorted = sortedNumbers(latencies);
    const steady = {
      ratePerSecond: rate,
      offeredPerSecond: total / offered,
      events: total,
      p50Ms: percentile(steadySorted, 0.5),
      p99Ms: percentile(steadySorted, 0.99),
      maxMs: steadySorted[steadySorted.length - 1],
      commitP50Ms: percentile(sortedNumbers(commitLatencies), 0.5),
      commitP99Ms: percentile(sortedNumbers(commitLatencies), 0.99),
      cpu: steadyCpu,
    };
    log(
      `events: changes offered at ${steady.offeredPerSecond.toFixed(0)}/s; change -> delivery p50 ${steady.p50Ms.toFixed(1)} ms, p99 ${steady.p99Ms.toFixed(1)} ms, max ${steady.maxMs.toFixed(1)} ms (of which change -> commit p50 ${steady.commitP50Ms.toFixed(1)} ms, p99 ${steady.commitP99Ms.toFixed(1)} ms); ${formatCpu(steadyCpu)}`,
    );

    // 3. SSE fan-out: `subscribers` streams; each event's latency from commit to each subscriber.
    log(`events: ${subscribers} SSE subscribers`);
    const fanOut = await measureFanOut(gateway.baseUrl, key.token, db, sessionId, jids, subscribers, log);
    const targets = [
      { name: 'webhook deliveries per second (one replica)', value: deliveriesPerSecond, target: '>= 2000', met: deliveriesPerSecond >= 2000 },
      { name: 'change -> delivery p99 at 500 events/s (ms)', value: steady.p99Ms, target: '< 1000', met: steady.p99Ms < 1000 },
      { name: `SSE fan-out p99 to ${subscribers} subscribers (ms)`, value: fanOut.p99Ms, target: '< 250', met: fanOut.p99Ms < 250 },
    ];
    return { deliveriesPerSecond, burstEvents: burst, burstCpu, steady, fanOut, targets };
  } finally {
    await receiver.close();
    await gateway.stop();
    await db.end();
    if (!options.keepDatabase) await dropDatabase(options.serverUrl, database.name);
  }
}

async function measureFanOut(
  baseUrl: string,
  token: string,
  db: Pool,
  sessionId: string,
  jids: string[],
  subscribers: number,
  log: (line: string) => void,
): Promise<EventsBenchResult['fanOut']> {
  const events = 50;
  const agent = new http.Agent({ keepAlive: true, maxSockets: subscribers + 10 });
  const committedAt = new Map<string, number>();
  const latencies: number[] = [];
  let messages = 0;
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((done) => (resolveAll = done));
  const requests: http.ClientRequest[] = [];
  const opened: Promise<void>[] = [];
  for (let i = 0; i < subscribers; i++) {
    opened.push(
      new Promise<void>((ready, fail) => {
        const req = http.get(
          `${baseUrl}/api/v1/events/stream?types=chat.updated`,
          { agent, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } },
          (res) => {
            if (res.statusCode !== 200) return fail(new Error(`stream answered ${res.statusCode}`));
            let buffer = '';
            let open = false;
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              buffer += chunk;
              if (!open && buffer.includes('stream open')) {
                open = true;
                ready();
              }
              let end: number;
              while ((end = buffer.indexOf('\n\n')) >= 0) {
                const block = buffer.slice(0, end);
                buffer = buffer.slice(end + 2);
                const data = /^data: (.*)$/m.exec(block)?.[1];
                if (!data) continue;
                const at = performance.timeOrigin + performance.now();
                const jid = /"jid":"([^"]+)"/.exec(data)?.[1];
                const start = jid ? committedAt.get(jid) : undefined;
                if (start === undefined) continue;
                latencies.push(at - start);
                if (++messages === subscribers * events) resolveAll();
              }
            });
          },
        );
        req.on('error', fail);
        requests.push(req);
      }),
    );
  }
  await Promise.all(opened);
  log(`events: ${subscribers} streams open; ${events} events at 10/s`);
  for (let i = 0; i < events; i++) {
    const jid = jids[jids.length - 1 - i];
    // Timed from just before the change is sent: a stream may see the event before this await resumes.
    committedAt.set(jid, performance.timeOrigin + performance.now());
    await db.query(`UPDATE chats SET name = $3 WHERE session_id = $1 AND jid = $2`, [sessionId, jid, `fan-out ${i}`]);
    await new Promise((done) => setTimeout(done, 100));
  }
  await Promise.race([all, new Promise((done) => setTimeout(done, 30_000))]);
  for (const req of requests) req.destroy();
  agent.destroy();
  const sorted = sortedNumbers(latencies);
  const result = { subscribers, events, messages, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), maxMs: sorted[sorted.length - 1] };
  log(`events: fan-out ${messages}/${subscribers * events} messages, p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms`);
  return result;
}

export function formatEventsReport(result: EventsBenchResult): string {
  const lines = [
    'Events out',
    `  webhook deliveries: ${result.burstEvents} events of one transaction delivered at ${Math.round(result.deliveriesPerSecond)}/s (one replica); ${formatCpu(result.burstCpu)}`,
    `  change -> delivery at ${result.steady.ratePerSecond} events/s (offered ${result.steady.offeredPerSecond.toFixed(0)}/s, ${result.steady.events} events): p50 ${result.steady.p50Ms.toFixed(1)} ms, p99 ${result.steady.p99Ms.toFixed(1)} ms, max ${result.steady.maxMs.toFixed(1)} ms; change -> commit p50 ${result.steady.commitP50Ms.toFixed(1)} ms, p99 ${result.steady.commitP99Ms.toFixed(1)} ms; ${formatCpu(result.steady.cpu)}`,
    `  SSE fan-out to ${result.fanOut.subscribers} subscribers (${result.fanOut.events} events, ${result.fanOut.messages} messages): p50 ${result.fanOut.p50Ms.toFixed(1)} ms, p99 ${result.fanOut.p99Ms.toFixed(1)} ms, max ${result.fanOut.maxMs.toFixed(1)} ms`,
    ...result.targets.map((target) => `  ${target.met ? 'PASS' : 'FAIL'} ${target.name}: ${target.value.toFixed(1)} (target ${target.target})`),
  ];
  return lines.join('\n');
}

/**
 * The events part of `npm run bench` (BENCH_CASES selects it with `events`; sizes: BENCH_EVENTS_BURST,
 * BENCH_EVENTS_STEADY_SECONDS, BENCH_EVENTS_SUBSCRIBERS). Prints its report and writes events.json.
 */
export async function runEventsPart(config: BenchConfig, log: (line: string) => void): Promise<void> {
  if (config.caseFilter.length > 0 && !config.caseFilter.some((part) => 'events'.includes(part))) return;
  const env = process.env;
  const result = await runEventsBenchmark({
    serverUrl: config.serverUrl,
    resultsDir: config.resultsDir,
    keepDatabase: config.keepDatabase,
    log,
    burst: env.BENCH_EVENTS_BURST ? Number(env.BENCH_EVENTS_BURST) : undefined,
    steadySeconds: env.BENCH_EVENTS_STEADY_SECONDS ? Number(env.BENCH_EVENTS_STEADY_SECONDS) : undefined,
    subscribers: env.BENCH_EVENTS_SUBSCRIBERS ? Number(env.BENCH_EVENTS_SUBSCRIBERS) : undefined,
  });
  process.stdout.write(`\n${formatEventsReport(result)}\n`);
  const file = join(config.resultsDir, 'events.json');
  writeFileSync(file, `${JSON.stringify({ generatedAt: new Date().toISOString(), ...result }, null, 2)}\n`);
  log(`wrote ${file}`);
}

/** `node --require ts-node/register/transpile-only bench/events.ts`: this part alone (needs dist/: `npm run build`). */
if (require.main === module) {
  runEventsPart({ ...benchConfig(), caseFilter: [] }, (line) => process.stderr.write(`[bench] ${line}\n`)).catch((error) => {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exit(1);
  });
}
