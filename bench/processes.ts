import { ChildProcess, fork, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Client } from 'pg';

export interface RunningServer {
  name: string;
  baseUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** A port the OS says is free on loopback right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** Resident set size of a process, from /proc (Linux): current and peak, in MiB. */
export function residentMemory(pid: number): { rssMb: number; peakRssMb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kib('VmRSS') / 1024, peakRssMb: kib('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  try {
    // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

const CLOCK_TICKS_PER_SECOND = 100;

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((done) => child.once('exit', () => done()));
}

async function stopChild(child: ChildProcess, graceMs = 10_000, signal: NodeJS.Signals | null = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (signal) child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

async function waitUntilAnswering(url: string, child: ChildProcess, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited during start-up (code ${child.exitCode ?? child.signalCode})`);
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${what} did not answer on ${url} within ${timeoutMs} ms`);
      await new Promise((done) => setTimeout(done, 100));
    }
  }
}

/**
 * The built gateway, `node dist/main.js`, as its own process on a free loopback port (HTTP_PLATFORM in `env`). Its logs
 * (JSON, one line per request: logging stays on) go to `logFile`.
 */
export async function startGateway(options: { name: string; env: Record<string, string>; logFile: string; cpuProfileDir?: string }): Promise<RunningServer> {
  const port = await freePort();
  const log = openSync(options.logFile, 'w');
  // The profile is written when the process exits: the gateway's graceful shutdown ends in process.exit (main.ts).
  const execArgv = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(options.cpuProfileDir)}`] : [];
  const nodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, ...execArgv, 'dist/main.js'], {
    env: { ...process.env, LOG_FORMAT: 'json', ...options.env, PORT: String(port) },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`[bench] the gateway (${options.name}) exited unexpectedly (code ${code}, signal ${signal}); see ${options.logFile}\n`);
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(`${baseUrl}/api/v1`, child, `the gateway (${options.name})`);
  } catch (error) {
    await stopChild(child);
    throw new Error(`${(error as Error).message}; see ${options.logFile}`, { cause: error });
  }
  return {
    name: options.name,
    baseUrl,
    process: child,
    stop: () => {
      stopping = true;
      return stopChild(child);
    },
  };
}

/** bench/baseline/server.ts in a process of its own (through ts-node, like the harness). */
export async function startBaseline(env: Record<string, string>, cpuProfileDir?: string): Promise<RunningServer> {
  const child = fork(resolve(__dirname, 'baseline/server.ts'), [], {
    env: { ...process.env, ...env },
    execArgv: [
      '--require',
      'ts-node/register/transpile-only',
      ...(cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(cpuProfileDir, 'baseline')}`] : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((done, fail) => {
    child.once('message', (message: { port: number }) => done(message.port));
    child.once('exit', (code) => fail(new Error(`the baseline server exited during start-up (code ${code})`)));
  });
  return {
    name: 'baseline',
    baseUrl: `http://127.0.0.1:${port}`,
    process: child,
    stop: async () => {
      if (child.connected) child.disconnect();
      await stopChild(child, 5000, null);
    },
  };
}

/**
 * Waits until no other session runs a query in the database: when autocannon stops, the server it
 * drove still works through the requests it had accepted (the OFFSET baseline's take up to a
 * second each), and the next case must not start on a database still busy with them.
 */
export async function waitForIdleDatabase(databaseUrl: string, timeoutMs = 20_000): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await client.query<{ busy: number }>(
        "SELECT count(*)::int AS busy FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()",
      );
      if (rows[0].busy === 0 || Date.now() > deadline) return;
      await new Promise((done) => setTimeout(done, 50));
    }
  } finally {
    await client.end();
  }
}
