import { dropDatabase } from './test-database';

/**
 * How long the run may take to exit on its own after the last test file (Jest's own wait is 1 s).
 * Longer than Baileys' pre-key upload timeout (30 s): its timer is never cleared after a
 * successful upload, so a run whose last test linked a device stays alive that long.
 */
const EXIT_GRACE_MS = 40_000;

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as Record<string, unknown>).__testDatabase as { serverUrl: string; name: string; stopEmbedded?: () => Promise<void> } | undefined;
  if (state) {
    if (!process.env.KEEP_TEST_DATABASE) await dropDatabase(state.serverUrl, state.name);
    await state.stopEmbedded?.();
  }
  failOnLeakedHandles();
}

/**
 * On a 2-core machine Jest runs every file in band, in its own process: one pool, server or socket a
 * test leaves open keeps the run from exiting, and CI waits for its time limit with every test
 * passed. Instead, a run still alive after a grace period names what it leaked and ends:
 * - an open handle (socket, server, child process) is a test's defect and fails the run;
 * - timers alone are named, not failed: they are a library's. Baileys arms some it never
 *   clears when its socket ends (its 30 s pre-key upload timeout, its 20 s wait for a first
 *   history sync), and which of them are still armed at the end depends on the machine's speed
 *   (a CI run failed on two of them with every test passed). They are named, and the run ends with
 *   the tests' own result (Jest sets the exit code of a failed run as the process exits).
 */
function failOnLeakedHandles(): void {
  setTimeout(() => {
    const handles = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles();
    const described = handles.map(describeHandle);
    // Timers are not handles: the resource kinds name everything still keeping the event loop alive.
    const resources = process.getActiveResourcesInfo().filter((kind) => kind !== 'TTYWrap');
    const leakedHandles = described.length > 0;
    process.stderr.write(
      `\nThe test run did not exit ${EXIT_GRACE_MS / 1000} s after its last test: ${leakedHandles ? 'a test left open' : 'only timers are left'}\n` +
        `${described.map((line) => `  - ${line}`).join('\n')}\n  resources: ${resources.join(', ')}\n`,
    );
    if (leakedHandles) process.exit(1);
    process.exit();
  }, EXIT_GRACE_MS).unref();
}

function describeHandle(handle: object): string {
  const kind = handle.constructor?.name ?? typeof handle;
  const socket = handle as { localAddress?: string; localPort?: number; remoteAddress?: string; remotePort?: number };
  if (socket.remotePort) return `${kind} ${socket.localAddress}:${socket.localPort} -> ${socket.remoteAddress}:${socket.remotePort}`;
  const server = handle as { address?: () => unknown };
  if (typeof server.address === 'function') return `${kind} listening on ${JSON.stringify(server.address())}`;
  return kind;
}
