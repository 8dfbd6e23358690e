import { ChildProcess, execFile, fork, ForkOptions } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..');
const TS_NODE = ['-r', 'ts-node/register/transpile-only'];

/** Runs a TypeScript file of the project as a separate Node process and returns its stdout. */
export async function runTsScript(file: string, env: Record<string, string>): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [...TS_NODE, join(ROOT, file)], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** Starts a TypeScript file of the project as a child process with an IPC channel. */
export function forkTsScript(file: string, env: Record<string, string>, options: ForkOptions = {}): ChildProcess {
  return fork(join(ROOT, file), [], {
    cwd: ROOT,
    execArgv: TS_NODE,
    env: { ...process.env, NODE_OPTIONS: '', TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    ...options,
  });
}
