/**
 * Exponential backoff with jitter: attempt n (1-based) waits between half and all of
 * min(max, base * 2^(n-1)), so retries never come faster than half the schedule and replicas
 * that failed together do not retry together.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** The smallest delay backoffDelay can give for this attempt (for checks that nothing retries faster). */
export function minimumBackoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  return backoffDelay(attempt, baseMs, maxMs, () => 0);
}
