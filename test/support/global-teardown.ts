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
 * On a 2-core machine Jest runs every file in band, in its own process: one pool, server or timer a
 * test leaves open keeps the run from exiting, and CI waits for its time limit with every test
 * passed. Instead, a run still alive after a grace period names what it leaked and fails.
 */
function failOnLeakedHandles(): void {
  setTimeout(() => {
    const handles = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles();
    const described = handles.map(describeHandle);
    // Timers are not handles: the resource kinds name everything still keeping the event loop alive.
    const resources = process.getActiveResourcesInfo().filter((kind) => kind !== 'TTYWrap');
    process.stderr.write(
      `\nThe test run did not exit ${EXIT_GRACE_MS / 1000} s after its last test: a test left open\n${described.map((line) => `  - ${line}`).join('\n')}\n` +
        `  resources: ${resources.join(', ')}\n`,
    );
    process.exit(1);
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
