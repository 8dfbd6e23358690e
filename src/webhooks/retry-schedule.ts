/** Each delay of the schedule is moved by up to this fraction either way, so retries of many deliveries spread out. */
const JITTER = 0.2;

/**
 * When to try a failed delivery again: `attempt` attempts have failed so far; the delay is the
 * schedule's entry for it (WEBHOOK_RETRY_SCHEDULE, already scaled) with jitter, or undefined when
 * the schedule is used up and the delivery fails for good.
 */
export function retryDelayMs(attempt: number, schedule: readonly number[], random: () => number = Math.random): number | undefined {
  const base = schedule[attempt - 1];
  if (base === undefined) return undefined;
  return Math.max(0, Math.round(base * (1 + (random() * 2 - 1) * JITTER)));
}
