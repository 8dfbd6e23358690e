/**
 * The WhatsApp side of `npm run bench`, through the real Baileys socket and the WhatsApp simulator
 * (src/simulator): a history sync of BENCH_SIM_HISTORY_CHATS chats end to end, and
 * BENCH_SIM_SESSIONS linked sessions held by one replica (idle RSS and CPU per session, and how
 * long all of them take to be connected again after the replica restarts).
 * Runs on its own (`node --require ts-node/register/transpile-only bench/simulator.ts`, after
 * `npm run build`) or from bench/run.ts (BENCH_CASES containing `simulator`, or empty).
 */
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { Client } from 'pg';
import { generateApiKey, hashSecret } from '../src/auth/api-keys/api-key-token';
import { statusRank } from '../src/messages/message-type';
import { generatedPhoneBook, samplePhoneBook } from '../src/simulator/phone-book';
import { WhatsAppSimulator } from '../src/simulator/whatsapp-simulator';
import { createFreshDatabase, dropDatabase } from '../test/support/test-database';
import { cpuSeconds, residentMemory, RunningServer, startGateway } from './processes';
import { summarizeProfilesIn } from './profile';

export interface SimulatorBenchResult {
  history?: { chats: number; seconds: number; chatsPerSecond: number };
  /**
   * The outbox of one replica with pacing off (SEND_RATE_PER_MINUTE 6000, SEND_BURST 1000, no
   * jitter): `messages` accepted over the API for `sessions` linked sessions, sent through the
   * socket and decrypted by the simulated contact, until every one is `sent` (WhatsApp's ack).
   */
  outbox?: { sessions: number; messages: number; acceptSeconds: number; seconds: number; messagesPerSecond: number; gatewayCpuMicrosPerMessage: number };
  idle?: {
    sessions: number;
    linkSeconds: number;
    linkConcurrency: number;
    takeoverJitterMs: number;
    rssMb: number;
    /** The same replica's RSS before it held any session. */
    baseRssMb: number;
    /** (rssMb - baseRssMb) / sessions */
    rssPerSessionMb: number;
    idleSeconds: number;
    cpuPercentPerSession: number;
    /** CPU seconds per session of linking (QR scan to connected): the gateway, and the bench process that runs the simulator. */
    linkCpuPerSession: { gatewaySeconds: number; simulatorSeconds: number };
    reconnect: {
      allBackSeconds: number;
      firstSeconds: number;
      medianSeconds: number;
      /** Until the gateway reported every session connected (after Baileys' login queries); the CPU figures are taken then. */
      allConnectedSeconds: number;
      /** The restarted replica's RSS 10 s after that, and per session (less the RSS before any session). */
      rssMb: number;
      rssPerSessionMb: number;
      /**
       * CPU seconds per session from the restart to all back: the new gateway process (less the CPU an
       * empty replica spends booting) and the bench process, i.e. the simulator.
       */
      cpuPerSession: { gatewaySeconds: number; simulatorSeconds: number };
      /** What the new gateway spent in all (boot included), and what an empty replica spent booting. */
      gatewayCpuSeconds: number;
      bootCpuSeconds: number;
    };
  };
}

interface Context {
  serverUrl: string;
  historyChats: number;
  sessions: number;
  idleSeconds: number;
  /** Sessions linked at once. */
  linkConcurrency: number;
  /** SESSION_TAKEOVER_JITTER_MS of the replicas: how far apart the restarted replica spreads its claims. */
  takeoverJitterMs: number;
  /** The outbox case: sessions, and messages queued per session (0: skipped). */
  sendSessions: number;
  sendMessages: number;
  resultsDir: string;
  /** BENCH_CPU_PROF: the restarted replica runs with --cpu-prof, and the bench profiles itself (the simulator) during the reconnect. */
  cpuProfileDir?: string;
  log: (line: string) => void;
}

const ORG = 'bench-simulator';

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((done) => setTimeout(done, everyMs));
  }
}

class Api {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async call(path: string, method = 'GET', body?: unknown): Promise<any> {
    const response = await fetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  /** A new session, linked by the simulated phone scanning its QR; resolves once it is connected. */
  async link(simulator: WhatsAppSimulator, phone: string): Promise<{ sessionId: string; device: string }> {
    const sessionId = (await this.call('/sessions', 'POST', { name: `bench ${phone}` })).body.id as string;
    const qr = await until(
      async () => {
        const answer = await this.call(`/sessions/${sessionId}/qr`);
        return answer.status === 200 ? (answer.body.qr as string) : undefined;
      },
      120_000,
      `QR of session ${sessionId}`,
    );
    const device = await simulator.scan(qr, phone);
    return { sessionId, device };
  }
}

/** CPU seconds (user + system) this process, i.e. the simulator and the bench's own polling, has used so far. */
function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** Profiles this process (the simulator) until the returned function is called, which writes `file`. */
async function profileSelf(file: string): Promise<() => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

async function startReplica(
  context: Context,
  databaseUrl: string,
  simulator: WhatsAppSimulator,
  name: string,
  profile = false,
  extraEnv: Record<string, string> = {},
): Promise<RunningServer> {
  return startGateway({
    cpuProfileDir: profile && context.cpuProfileDir ? join(context.cpuProfileDir, name) : undefined,
    name,
    env: {
      DATABASE_URL: databaseUrl,
      WHATSAPP_WS_URL: simulator.url,
      WHATSAPP_SIMULATOR_ROOT_KEY: simulator.rootPublicKeyHex,
      WHATSAPP_SIMULATOR_MEDIA_CA: simulator.mediaCertificatePem,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SESSION_CAPACITY: String(context.sessions + 10),
      SESSION_TAKEOVER_JITTER_MS: String(context.takeoverJitterMs),
      SHUTDOWN_DELAY_MS: '0',
      RATE_LIMIT_PER_CALLER: '10000000',
      RATE_LIMIT_PER_ORG: '100000000',
      // One organization holds every bench session.
      ORG_MAX_SESSIONS: String(context.sessions + 10),
      ORG_MAX_RUNNING_SESSIONS: String(context.sessions + 10),
      ...extraEnv,
    },
    logFile: join(context.resultsDir, `${name}.log`),
  });
}

export async function runSimulatorBenchmarks(context: Context): Promise<SimulatorBenchResult> {
  mkdirSync(context.resultsDir, { recursive: true });
  if (context.cpuProfileDir) mkdirSync(context.cpuProfileDir, { recursive: true });
  const database = await createFreshDatabase(context.serverUrl, 'bench_sim');
  const simulator = await WhatsAppSimulator.start({ historyChunkSize: 5000 });
  const servers: RunningServer[] = [];
  const result: SimulatorBenchResult = {};
  try {
    let gateway = await startReplica(context, database.url, simulator, 'simulator-gateway');
    servers.push(gateway);
    const key = generateApiKey();
    const db = new Client({ connectionString: database.url });
    // Dropping the database at the end ends this connection too when a case failed before db.end(): not a second failure.
    db.on('error', () => undefined);
    await db.connect();
    await db.query(`INSERT INTO api_keys (id, org_id, name, secret_hash, capabilities) VALUES ($1, $2, 'bench', $3, '{read,manage,send}')`, [
      key.id,
      ORG,
      hashSecret(key.secret),
    ]);
    let api = new Api(gateway.baseUrl, key.token);
    const chatCount = async (sessionId: string) =>
      (await db.query('SELECT count(*)::int AS n FROM chats WHERE session_id = $1', [sessionId])).rows[0].n as number;

    if (context.historyChats > 0) {
      const phone = '15559000000';
      await simulator.createAccount({ phone, phoneBook: generatedPhoneBook(context.historyChats, Math.floor(Date.now() / 1000)) });
      let loggedInAt = 0;
      simulator.once('login', () => (loggedInAt = performance.now()));
      const { sessionId } = await api.link(simulator, phone);
      await until(async () => ((await chatCount(sessionId)) >= context.historyChats ? true : undefined), 600_000, 'history stored', 200);
      // The last chat is listed: the API pages through the stored copy like a client would.
      const last = await api.call(`/sessions/${sessionId}/chats?limit=1`);
      if (last.status !== 200 || last.body.data.length !== 1) throw new Error(`List chats answered ${last.status}`);
      const seconds = (performance.now() - loggedInAt) / 1000;
      result.history = { chats: context.historyChats, seconds, chatsPerSecond: context.historyChats / seconds };
      context.log(`history: ${context.historyChats} chats through the socket in ${seconds.toFixed(1)} s (${result.history.chatsPerSecond.toFixed(0)} chats/s)`);
      await api.call(`/sessions/${sessionId}/stop`, 'POST');
    }

    if (context.sendSessions > 0 && context.sendMessages > 0) {
      // Its own replica, alone: another running replica would take a share of its sessions.
      await gateway.stop();
      servers.splice(servers.indexOf(gateway), 1);
      result.outbox = await runOutboxCase(context, database.url, simulator, db, key.token);
      gateway = await startReplica(context, database.url, simulator, 'simulator-gateway');
      servers.push(gateway);
      api = new Api(gateway.baseUrl, key.token);
    }

    if (context.sessions > 0) {
      // A fresh replica, so the history case's memory does not count, and its RSS before any session.
      await gateway.stop();
      servers.splice(servers.indexOf(gateway), 1);
      gateway = await startReplica(context, database.url, simulator, 'simulator-gateway-idle', true);
      servers.push(gateway);
      api = new Api(gateway.baseUrl, key.token);
      await new Promise((done) => setTimeout(done, 5_000));
      const baseRssMb = residentMemory(gateway.process.pid!)?.rssMb ?? NaN;
      // What an empty replica spends booting (and 5 s of lease ticks): taken off the restarted replica's CPU below.
      const bootCpuSeconds = cpuSeconds(gateway.process.pid!);
      const linkStart = performance.now();
      const linkCpu = { gateway: cpuSeconds(gateway.process.pid!), simulator: ownCpuSeconds() };
      const phones = Array.from({ length: context.sessions }, (_, i) => String(15558000000 + i));
      for (const phone of phones) await simulator.createAccount({ phone, phoneBook: generatedPhoneBook(3, Math.floor(Date.now() / 1000)) });
      const devices: string[] = [];
      // A few at a time (each first login generates and uploads 812 pre-keys), a new one as soon as one is done.
      let next = 0;
      const linkWorker = async () => {
        while (next < phones.length) {
          const phone = phones[next++];
          devices.push((await api.link(simulator, phone)).device);
          if (devices.length % 20 === 0 || devices.length === phones.length) context.log(`linked ${devices.length}/${phones.length}`);
        }
      };
      await Promise.all(Array.from({ length: Math.min(context.linkConcurrency, phones.length) }, linkWorker));
      // A set: the polls below run every 100 ms over every device, and N is 500.
      const linked = new Set(devices);
      const connected = () => simulator.devices().filter((device) => linked.has(device.jid) && device.connections === 1).length;
      await until(() => (connected() === devices.length ? true : undefined), 600_000, 'all sessions connected');
      const linkSeconds = (performance.now() - linkStart) / 1000;
      const linkCpuPerSession = {
        gatewaySeconds: (cpuSeconds(gateway.process.pid!) - linkCpu.gateway) / devices.length,
        simulatorSeconds: (ownCpuSeconds() - linkCpu.simulator) / devices.length,
      };
      context.log(
        `linked ${devices.length} in ${linkSeconds.toFixed(1)} s; CPU per session: gateway ${linkCpuPerSession.gatewaySeconds.toFixed(3)} s, simulator ${linkCpuPerSession.simulatorSeconds.toFixed(3)} s`,
      );
      // Let the first-login work settle, then measure an idle window.
      await new Promise((done) => setTimeout(done, 10_000));
      const pid = gateway.process.pid!;
      const cpuBefore = cpuSeconds(pid);
      const idleStart = performance.now();
      await new Promise((done) => setTimeout(done, context.idleSeconds * 1000));
      const idleSeconds = (performance.now() - idleStart) / 1000;
      const cpu = cpuSeconds(pid) - cpuBefore;
      const rssMb = residentMemory(pid)?.rssMb ?? NaN;

      // Restart the replica: every session must log in again with its stored credentials.
      const loginsBefore = new Map(simulator.devices().map((device) => [device.jid, device.logins]));
      await gateway.stop();
      servers.splice(servers.indexOf(gateway), 1);
      const stopProfiling = context.cpuProfileDir ? await profileSelf(join(context.cpuProfileDir, 'simulator-reconnect.cpuprofile')) : undefined;
      const restartedAt = performance.now();
      const restartedAtClock = new Date();
      const simulatorCpuBefore = ownCpuSeconds();
      const backAt: number[] = [];
      const onLogin = (jid: string) => {
        if (linked.has(jid)) backAt.push((performance.now() - restartedAt) / 1000);
      };
      simulator.on('login', onLogin);
      gateway = await startReplica(context, database.url, simulator, 'simulator-gateway-restarted', true);
      servers.push(gateway);
      api = new Api(gateway.baseUrl, key.token);
      await until(
        () =>
          simulator.devices().filter((device) => linked.has(device.jid) && device.connections === 1 && device.logins > (loginsBefore.get(device.jid) ?? 0))
            .length === devices.length
            ? true
            : undefined,
        600_000,
        'all sessions back after the restart',
      );
      simulator.off('login', onLogin);
      // Logged in is not done: the gateway reports a session connected after Baileys' login queries (pre-key count, digest, passive).
      const connectedAgain = async () =>
        (await db.query(`SELECT count(*)::int AS n FROM sessions WHERE org_id = $1 AND status = 'connected' AND connected_at >= $2`, [ORG, restartedAtClock]))
          .rows[0].n as number;
      await until(async () => ((await connectedAgain()) >= devices.length ? true : undefined), 600_000, 'all sessions reported connected', 200);
      const allConnectedSeconds = (performance.now() - restartedAt) / 1000;
      const reconnectCpu = { gateway: cpuSeconds(gateway.process.pid!), simulator: ownCpuSeconds() - simulatorCpuBefore };
      await stopProfiling?.();
      // Without the first-login caches (Baileys keeps the 812 new pre-keys in its key cache for 5 minutes).
      await new Promise((done) => setTimeout(done, 10_000));
      const restartedRssMb = residentMemory(gateway.process.pid!)?.rssMb ?? NaN;
      const sorted = [...backAt].sort((a, b) => a - b);
      result.idle = {
        sessions: devices.length,
        linkSeconds,
        linkConcurrency: context.linkConcurrency,
        takeoverJitterMs: context.takeoverJitterMs,
        rssMb,
        baseRssMb,
        rssPerSessionMb: (rssMb - baseRssMb) / devices.length,
        idleSeconds,
        cpuPercentPerSession: ((cpu / idleSeconds) * 100) / devices.length,
        linkCpuPerSession,
        reconnect: {
          allBackSeconds: sorted[sorted.length - 1],
          firstSeconds: sorted[0],
          medianSeconds: sorted[Math.floor(sorted.length / 2)],
          allConnectedSeconds,
          rssMb: restartedRssMb,
          rssPerSessionMb: (restartedRssMb - baseRssMb) / devices.length,
          cpuPerSession: {
            gatewaySeconds: (reconnectCpu.gateway - bootCpuSeconds) / devices.length,
            simulatorSeconds: reconnectCpu.simulator / devices.length,
          },
          gatewayCpuSeconds: reconnectCpu.gateway,
          bootCpuSeconds,
        },
      };
      const overlaps = simulator.devices().reduce((sum, device) => sum + device.overlaps, 0);
      context.log(
        `idle: ${devices.length} sessions, RSS ${rssMb.toFixed(0)} MB (${baseRssMb.toFixed(0)} MB before any session: ${result.idle.rssPerSessionMb.toFixed(2)} MB/session), CPU ${result.idle.cpuPercentPerSession.toFixed(3)} %/session over ${idleSeconds.toFixed(0)} s; ` +
          `after a restart all back in ${result.idle.reconnect.allBackSeconds.toFixed(1)} s (first ${result.idle.reconnect.firstSeconds.toFixed(1)} s, median ${result.idle.reconnect.medianSeconds.toFixed(1)} s), ` +
          `all reported connected ${allConnectedSeconds.toFixed(1)} s, RSS then ${restartedRssMb.toFixed(0)} MB (${result.idle.reconnect.rssPerSessionMb.toFixed(2)} MB/session), ` +
          `CPU per session: gateway ${result.idle.reconnect.cpuPerSession.gatewaySeconds.toFixed(3)} s (${reconnectCpu.gateway.toFixed(1)} s in all, ${bootCpuSeconds.toFixed(1)} s to boot empty), ` +
          `simulator ${result.idle.reconnect.cpuPerSession.simulatorSeconds.toFixed(3)} s; overlaps ${overlaps}`,
      );
    }
    await db.end();
    return result;
  } finally {
    for (const server of servers) await server.stop();
    await simulator.stop();
    if (!process.env.BENCH_KEEP_DATABASE) await dropDatabase(context.serverUrl, database.name);
    // The gateway writes its profile when it exits, so only now.
    if (context.cpuProfileDir) context.log(`CPU profiles in ${context.cpuProfileDir}:\n${summarizeProfilesIn(context.cpuProfileDir)}`);
  }
}

/**
 * Outbox throughput of one replica with pacing off: sessions linked to the simulator, messages
 * accepted over the API (8 at a time), each sent through the socket, decrypted by the simulated
 * contact and acknowledged; timed from the first accept to the last `sent`. The replica stops
 * its sessions and exits afterwards, so the idle case below starts from none.
 */
async function runOutboxCase(
  context: Context,
  databaseUrl: string,
  simulator: WhatsAppSimulator,
  db: Client,
  token: string,
): Promise<SimulatorBenchResult['outbox']> {
  const gateway = await startReplica(context, databaseUrl, simulator, 'simulator-gateway-outbox', true, {
    SEND_RATE_PER_MINUTE: '6000',
    SEND_BURST: '1000',
    SEND_JITTER_MS: '0',
    SEND_POLL_MS: '20',
  });
  try {
    const api = new Api(gateway.baseUrl, token);
    const sessionIds: string[] = [];
    for (let i = 0; i < context.sendSessions; i++) {
      const phone = String(15557000000 + i);
      await simulator.createAccount({ phone, phoneBook: samplePhoneBook(Math.floor(Date.now() / 1000)) });
      sessionIds.push((await api.link(simulator, phone)).sessionId);
    }
    const connected = async () =>
      (await db.query(`SELECT count(*)::int AS n FROM sessions WHERE id = ANY($1) AND status = 'connected'`, [sessionIds])).rows[0].n;
    await until(async () => ((await connected()) === sessionIds.length ? true : undefined), 600_000, 'outbox sessions connected', 200);
    // Let the first-login work (pre-key upload, app state) settle.
    await new Promise((done) => setTimeout(done, 5_000));
    const total = sessionIds.length * context.sendMessages;
    const sentRank = statusRank('sent');
    const sent = async () =>
      (await db.query(`SELECT count(*)::int AS n FROM messages WHERE session_id = ANY($1) AND from_me AND status >= $2`, [sessionIds, sentRank])).rows[0]
        .n as number;
    const pid = gateway.process.pid!;
    const cpuBefore = cpuSeconds(pid);
    const started = performance.now();
    let next = 0;
    const acceptWorker = async () => {
      while (next < total) {
        const n = next++;
        const answer = await api.call(`/sessions/${sessionIds[n % sessionIds.length]}/messages`, 'POST', { to: '+14155550102', text: `outbox bench ${n}` });
        if (answer.status !== 202) throw new Error(`Send message answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, acceptWorker));
    const acceptSeconds = (performance.now() - started) / 1000;
    await until(async () => ((await sent()) >= total ? true : undefined), 600_000, 'every outbox message sent', 50);
    const seconds = (performance.now() - started) / 1000;
    const outbox = {
      sessions: sessionIds.length,
      messages: total,
      acceptSeconds,
      seconds,
      messagesPerSecond: total / seconds,
      gatewayCpuMicrosPerMessage: ((cpuSeconds(pid) - cpuBefore) * 1e6) / total,
    };
    context.log(
      `outbox: ${total} messages over ${sessionIds.length} sessions, pacing off: all sent (acked) in ${seconds.toFixed(1)} s (${outbox.messagesPerSecond.toFixed(0)} messages/s; ` +
        `accepting them took ${acceptSeconds.toFixed(1)} s), gateway CPU ${outbox.gatewayCpuMicrosPerMessage.toFixed(0)} µs/message`,
    );
    for (const sessionId of sessionIds) await api.call(`/sessions/${sessionId}/stop`, 'POST');
    return outbox;
  } finally {
    await gateway.stop();
  }
}

export function simulatorBenchContext(env: NodeJS.ProcessEnv, serverUrl: string, resultsDir: string, log: (line: string) => void): Context {
  const count = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number`);
    return value;
  };
  return {
    serverUrl,
    historyChats: count('BENCH_SIM_HISTORY_CHATS', 100_000),
    sessions: count('BENCH_SIM_SESSIONS', 500),
    idleSeconds: count('BENCH_SIM_IDLE_SECONDS', 30),
    // The gateway's own default, so the restart is measured as production spreads it.
    takeoverJitterMs: count('BENCH_SIM_TAKEOVER_JITTER_MS', 5000),
    linkConcurrency: Math.max(1, count('BENCH_SIM_LINK_CONCURRENCY', 4)),
    sendSessions: count('BENCH_SIM_SEND_SESSIONS', 4),
    sendMessages: count('BENCH_SIM_SEND_MESSAGES', 250),
    resultsDir,
    cpuProfileDir: env.BENCH_CPU_PROF ? join(env.BENCH_CPU_PROF, `simulator-${new Date().toISOString().replace(/[:.]/g, '-')}`) : undefined,
    log,
  };
}

if (require.main === module) {
  const log = (line: string) => process.stderr.write(`[bench:simulator] ${line}\n`);
  runSimulatorBenchmarks(
    simulatorBenchContext(
      process.env,
      process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
      process.env.BENCH_RESULTS_DIR || 'bench/results',
      log,
    ),
  )
    .then((result) => {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      process.exit(0);
    })
    .catch((error: Error) => {
      log(error.stack ?? error.message);
      process.exit(1);
    });
}
