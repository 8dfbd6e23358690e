import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `probe` until it returns a value that is not undefined/false, and returns it. Fails with
 * the last value seen after `timeoutMs` (a bound for a stuck test, not a timing assertion: generous,
 * since a loaded machine makes everything several times slower).
 */
export async function waitFor<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    last = await probe();
    if (last !== undefined && last !== false) return last as T;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
    await sleep(everyMs);
  }
}
