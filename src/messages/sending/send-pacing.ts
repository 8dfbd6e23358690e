/**
 * Per-session send pacing as a GCRA (generic cell rate algorithm): a session sends at most
 * `ratePerMinute` messages a minute once a burst of `burst` messages is spent, each send followed
 * by up to `jitterMs` of random extra delay. The whole state is one number, the theoretical
 * arrival time `tat` (ms), kept in `session_send_pacing` so a new holder paces on from it.
 */
export interface PacingSettings {
  ratePerMinute: number;
  burst: number;
  jitterMs: number;
}

/** The pacing a session sends with: its own settings (`sessions.send_pacing`, set through Update session), else the configured defaults. */
export function sessionPacing(stored: PacingSettings | null, defaults: PacingSettings): PacingSettings {
  const { ratePerMinute, burst, jitterMs } = stored ?? defaults;
  return { ratePerMinute, burst, jitterMs };
}

const intervalOf = (settings: PacingSettings) => 60_000 / settings.ratePerMinute;
const toleranceOf = (settings: PacingSettings) => (settings.burst - 1) * intervalOf(settings);

/**
 * The state as the settings bound it: never more than a spent burst (plus the jitter) ahead of
 * now. A no-op while the settings stay (a send at t leaves tat <= t + burst * interval + jitter);
 * after a change of a session's settings, the debt built up under the old ones is cut to the new
 * bound (never turned into credit). The bound moves with now: the holder stores the cut state
 * once it applies (OutboxSender), so the debt it leaves is paid from then on.
 */
export function bounded(tat: number | null, now: number, settings: PacingSettings): number | null {
  return tat === null ? null : Math.min(tat, now + settings.burst * intervalOf(settings) + settings.jitterMs);
}

/** The earliest time (ms) the next message may be sent. */
export function nextSendAllowedAt(stored: number | null, now: number, settings: PacingSettings): number {
  const tat = bounded(stored, now, settings);
  return tat === null ? now : Math.max(now, tat - toleranceOf(settings));
}

/** The state after sending one message at `now` (`random` in [0, 1) draws the jitter). */
export function afterSend(stored: number | null, now: number, settings: PacingSettings, random: number): number {
  const tat = bounded(stored, now, settings);
  return Math.max(tat ?? now, now) + intervalOf(settings) + Math.floor(random * settings.jitterMs);
}

/**
 * When the message with `ahead` messages before it in the session's queue is expected to be sent,
 * if the session stays connected (jitter left out): the i-th next message may go at
 * max(now, max(tat, now) + i * interval - tolerance).
 */
export function expectedSendAt(stored: number | null, now: number, ahead: number, settings: PacingSettings): number {
  const tat = bounded(stored, now, settings);
  const start = Math.max(tat ?? now, now);
  return Math.max(now, Math.round(start + ahead * intervalOf(settings) - toleranceOf(settings)));
}
