import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The built gateway (`node dist/main.js`, as in the image) as a child process on a random loopback
 * port, with its stdout (JSON log lines) captured. `npm test` builds dist/ first (pretest).
 */
export class SpawnedGateway {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    exited: Promise<Exit>,
    output: { stdout: string; stderr: string },
  ) {
    this.exited = exited;
    this.stdout = output.stdout;
    this.stderr = output.stderr;
    child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
  }

  /** `detached`: its own process group, as a terminal starts it (`process.kill(-pid, 'SIGINT')` is then a Ctrl-C). */
  static async start(env: Record<string, string>, startupTimeoutMs = 20_000, { detached = false } = {}): Promise<SpawnedGateway> {
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        // As every gateway of the test run (global-setup.ts): no WhatsApp connection, and none could reach WhatsApp.
        SESSION_CAPACITY: process.env.SESSION_CAPACITY ?? '0',
        ...(process.env.WHATSAPP_WS_URL && { WHATSAPP_WS_URL: process.env.WHATSAPP_WS_URL }),
        // The platform the test run checks (.ci/run runs the end-to-end specs on each).
        ...(process.env.HTTP_PLATFORM && { HTTP_PLATFORM: process.env.HTTP_PLATFORM }),
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached,
    });
    const output = { stdout: '', stderr: '' };
    const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`gateway did not start within ${startupTimeoutMs} ms:\n${output.stdout}\n${output.stderr}`));
      }, startupTimeoutMs);
      const onData = (chunk: Buffer) => {
        output.stdout += chunk.toString('utf8');
        const match = /"port":(\d+),"msg":"listening on port/.exec(output.stdout);
        if (match) {
          clearTimeout(timer);
          child.stdout.off('data', onData);
          resolve(Number(match[1]));
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString('utf8')));
      void exited.then(({ code }) => {
        clearTimeout(timer);
        reject(new Error(`gateway exited with ${code} before listening:\n${output.stdout}\n${output.stderr}`));
      });
    });
    return new SpawnedGateway(child, port, exited, output);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Every stdout line that parses as JSON. */
  logLines(): Record<string, any>[] {
    return this.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line)];
        } catch {
          return [];
        }
      });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}
