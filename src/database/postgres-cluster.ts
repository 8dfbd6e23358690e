import { ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SUPERUSER = 'postgres';
export const SUPERUSER_PASSWORD = 'postgres';

/** Where a root process keeps what the `postgres` user must reach when the project folder is closed to it. */
const ROOT_FALLBACK_DIR = '/var/lib/whatsapp-gateway/embedded-postgres';

/** The user PostgreSQL runs as: this process's own, or (as root, which PostgreSQL refuses) `postgres`. */
interface RunAs {
  uid: number;
  gid: number;
}

export interface PostgresClusterOptions {
  dataDir: string;
  port: number;
  initdbFlags?: string[];
  /** Extra `-c name=value` settings for the server. */
  settings?: Record<string, string>;
  /** The folder holding PostgreSQL's bin/, lib/ and share/; default: the `@embedded-postgres/<platform>-<arch>` package's. */
  installDir?: string;
  /** Progress lines (initialising, relocation). */
  log?: (message: string) => void;
}

/**
 * A PostgreSQL cluster run from the binaries of the `@embedded-postgres/<platform>-<arch>` package.
 * The `embedded-postgres` class does the same in a few lines, but installs process-wide SIGINT and
 * SIGTERM handlers that stop the database (and exit) while the gateway is still shutting down, runs
 * the binaries only from node_modules, and leaves the server in the terminal's process group (a
 * Ctrl-C reaches it at once). Here the owner decides when the server stops: `stop()`, or at the
 * latest when this process exits.
 *
 * As root, PostgreSQL runs as the `postgres` user (created if missing). When that user cannot reach
 * the binaries or the data folder (a project in `/root/...` or in a `mktemp -d` folder), the
 * binaries are copied, and the data kept, under /var/lib/whatsapp-gateway/embedded-postgres.
 */
export class PostgresCluster {
  private process?: ChildProcess;
  private exited?: Promise<void>;
  private readonly output: string[] = [];

  private constructor(
    private readonly binDir: string,
    readonly dataDir: string,
    readonly port: number,
    private readonly runAs: RunAs | undefined,
    private readonly options: PostgresClusterOptions,
  ) {}

  /** Resolves binaries, user and data folder; creates the cluster when the folder holds none. */
  static async prepare(options: PostgresClusterOptions): Promise<PostgresCluster> {
    const log = options.log ?? (() => undefined);
    const runAs = userInfo().uid === 0 ? await postgresUser() : undefined;
    const installDir = options.installDir ?? (await packagedInstallDir());
    const binDir =
      runAs && !(await canReach(join(installDir, 'bin', 'postgres'), runAs)) ? await copyBinaries(installDir, runAs, log) : join(installDir, 'bin');
    const dataDir = await reachableDataDir(resolve(options.dataDir), runAs, log);
    const cluster = new PostgresCluster(binDir, dataDir, options.port, runAs, options);
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await cluster.initialise(log);
    return cluster;
  }

  /** The cluster's own postmaster.pid, when a live server (this process's or another's) holds the folder. */
  static async runningServer(dataDir: string): Promise<{ pid: number; port: number } | undefined> {
    const lines = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').then(
      (text) => text.split('\n'),
      () => undefined,
    );
    if (!lines) return undefined;
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    if (!Number.isInteger(pid) || !Number.isInteger(port) || !isAlive(pid)) return undefined;
    return { pid, port };
  }

  private async initialise(log: (message: string) => void): Promise<void> {
    log(`initialising a new PostgreSQL cluster in ${this.dataDir}`);
    await mkdir(this.dataDir, { recursive: true, mode: 0o700 });
    if (this.runAs) await chown(this.dataDir, this.runAs.uid, this.runAs.gid);
    // initdb reads the superuser's password from a file the server's user can read.
    const passwordDir = await mkdtemp(join(tmpdir(), 'gw-pg-init-'));
    const passwordFile = join(passwordDir, 'password');
    try {
      await writeFile(passwordFile, `${SUPERUSER_PASSWORD}\n`, { mode: 0o600 });
      if (this.runAs) {
        await chown(passwordDir, this.runAs.uid, this.runAs.gid);
        await chown(passwordFile, this.runAs.uid, this.runAs.gid);
      }
      await this.runToEnd(join(this.binDir, 'initdb'), [
        `--pgdata=${this.dataDir}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${passwordFile}`,
        '--auth=password',
        '--encoding=UTF8',
        // PostgreSQL's own UTF-8 locale: the same ordering and case rules on every machine.
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
        '--locale=C',
        '--no-instructions',
        ...(this.options.initdbFlags ?? []),
      ]);
    } finally {
      await rm(passwordDir, { recursive: true, force: true });
    }
  }

  /** Starts the server and resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.process) return;
    const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: '', ...this.options.settings };
    const child = spawn(
      join(this.binDir, 'postgres'),
      ['-D', this.dataDir, '-p', String(this.port), ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])],
      {
        ...this.runAs,
        env: { ...process.env, LC_MESSAGES: 'C' },
        // Its own process group: a Ctrl-C in the terminal reaches the gateway, which stops the server last.
        detached: true,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    this.process = child;
    this.output.length = 0;
    this.exited = new Promise((resolveExit) => child.once('exit', () => resolveExit()));
    void this.exited.then(() => {
      if (this.process === child) this.process = undefined;
      process.off('exit', stopAtExit);
    });
    // Whatever way this process ends (an error at boot, process.exit), the server does not outlive it.
    const stopAtExit = () => child.kill('SIGINT');
    process.on('exit', stopAtExit);
    await new Promise<void>((resolveReady, rejectReady) => {
      // The server logs to stderr for as long as it runs: keep reading (a full pipe would block it), keep the tail for errors.
      child.stderr.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          this.output.push(line);
          if (this.output.length > 40) this.output.shift();
          if (line.includes('database system is ready to accept connections')) resolveReady();
        }
      });
      child.once('error', rejectReady);
      void this.exited!.then(() => rejectReady(new PostgresStartError(this.port, this.output)));
    });
  }

  /** Fast shutdown (open connections are terminated), then waits until the server has exited. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child) return;
    child.kill('SIGINT');
    await this.exited;
  }

  private runToEnd(file: string, args: string[]): Promise<void> {
    return new Promise((resolveRun, rejectRun) => {
      const child = spawn(file, args, { ...this.runAs, env: { ...process.env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.once('error', rejectRun);
      child.once('close', (code) => (code === 0 ? resolveRun() : rejectRun(new Error(`${file} exited with ${code}:\n${output}`))));
    });
  }
}

/** The server exited before it was ready; the message says why in the operator's terms when it can. */
export class PostgresStartError extends Error {
  readonly portInUse: boolean;

  constructor(
    readonly port: number,
    output: readonly string[],
  ) {
    const portInUse = output.some((line) => line.includes('Address already in use'));
    super(
      portInUse
        ? `the embedded PostgreSQL cannot listen on 127.0.0.1:${port}: another program uses that port`
        : `the embedded PostgreSQL stopped before it was ready:\n${output.join('\n')}`,
    );
    this.name = 'PostgresStartError';
    this.portInUse = portInUse;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function packagedInstallDir(): Promise<string> {
  const os = platform() === 'win32' ? 'windows' : platform();
  // The package's entry exports the absolute paths of its binaries (in <install dir>/bin).
  const binaries = (await import(`@embedded-postgres/${os}-${arch()}`)) as { postgres: string };
  return dirname(dirname(binaries.postgres));
}

async function postgresUser(): Promise<RunAs> {
  const lookUp = async () => ({
    uid: Number((await run('id', ['-u', SUPERUSER])).stdout.trim()),
    gid: Number((await run('id', ['-g', SUPERUSER])).stdout.trim()),
  });
  try {
    return await lookUp();
  } catch {
    await run('useradd', ['--system', '--user-group', '--no-create-home', SUPERUSER]);
    return lookUp();
  }
}

/** Whether `user` can reach `path`, checked as the server will run: that uid and gid, no other groups. */
function canReach(path: string, user: RunAs): Promise<boolean> {
  return new Promise((resolveCheck) => {
    const child = spawn('test', ['-x', path], { ...user, stdio: 'ignore' });
    child.once('error', () => resolveCheck(false));
    child.once('exit', (code) => resolveCheck(code === 0));
  });
}

/** A copy of bin/, lib/ and share/ that `user` can run, one per build of the server binary. */
async function copyBinaries(installDir: string, user: RunAs, log: (message: string) => void): Promise<string> {
  const build = createHash('sha256')
    .update(await readFile(join(installDir, 'bin', 'postgres')))
    .digest('hex')
    .slice(0, 16);
  const target = join(ROOT_FALLBACK_DIR, `binaries-${build}`);
  if (await canReach(join(target, 'bin', 'postgres'), user)) return join(target, 'bin');
  log(`the ${SUPERUSER} user cannot reach ${installDir}: copying the PostgreSQL binaries to ${target}`);
  await ensureFallbackRoot();
  const staging = `${target}.${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await cp(installDir, staging, { recursive: true, verbatimSymlinks: true });
  await chmod(staging, 0o755);
  await rename(staging, target).catch(async (error: NodeJS.ErrnoException) => {
    // Another process made the same copy first.
    await rm(staging, { recursive: true, force: true });
    if (!existsSync(target)) throw error;
  });
  return join(target, 'bin');
}

/**
 * The configured data folder when the server's user can reach its parent; otherwise (root, a folder
 * closed to others) a folder of its own under /var/lib, named after the configured one, so the same
 * configuration finds the same data again.
 */
async function reachableDataDir(dataDir: string, runAs: RunAs | undefined, log: (message: string) => void): Promise<string> {
  if (!runAs) return dataDir;
  const parent = dirname(dataDir);
  await mkdir(parent, { recursive: true });
  if (await canReach(parent, runAs)) return dataDir;
  const fallback = fallbackDataDir(dataDir);
  await ensureFallbackRoot();
  log(`the ${SUPERUSER} user cannot reach ${dataDir}: its data is kept in ${fallback}`);
  return fallback;
}

/** Where a root process keeps the data of `dataDir` when the server's user cannot reach it. */
export function fallbackDataDir(dataDir: string): string {
  return join(ROOT_FALLBACK_DIR, `data-${shortHash(resolve(dataDir))}`);
}

/** /var/lib/whatsapp-gateway/embedded-postgres, open to every user for traversal (what it holds has its own modes). */
async function ensureFallbackRoot(): Promise<void> {
  await mkdir(ROOT_FALLBACK_DIR, { recursive: true });
  await chmod(dirname(ROOT_FALLBACK_DIR), 0o755);
  await chmod(ROOT_FALLBACK_DIR, 0o755);
}

export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
