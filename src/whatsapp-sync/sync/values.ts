import { MUTED_FOREVER } from '../../chats/chat-type';
import { withoutUnstorable } from '../../common/text/storable-text';

/** Longest name kept from WhatsApp (its own limits are far lower: 25 for a push name, 100 for a subject). */
export const MAX_WHATSAPP_TEXT = 1024;

/**
 * A string from WhatsApp (a name, a subject, an id) as the stored copy keeps it: cut at
 * MAX_WHATSAPP_TEXT characters, without the characters PostgreSQL refuses. Any WhatsApp user can
 * put a NUL in their push name; stored as sent, it failed the whole batch's transaction.
 */
export function storableText(value: string, maxLength = MAX_WHATSAPP_TEXT): string {
  const bounded = value.length > maxLength ? value.slice(0, maxLength) : value;
  // The cut may leave half a surrogate pair at the end: the cleaning drops it.
  return withoutUnstorable(bounded);
}

/**
 * The edge where Baileys' 64-bit values become plain numbers, once. They arrive as numbers, as
 * protobufjs `Long` objects (live decoding), as decimal strings (a proto message serialized to
 * JSON, e.g. in a recording) or as `{ low, high, unsigned }` (a Long serialized as a plain object).
 * Anything else is "no value". Values beyond 2^53 lose precision, which no timestamp here needs.
 */
export function toInt64(value: unknown): number | null {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? Math.trunc(value) : null;
    case 'bigint':
      return Number(value);
    case 'string':
      return /^-?\d{1,20}$/.test(value.trim()) ? Number(value.trim()) : null;
    case 'object': {
      if (value === null) return null;
      const long = value as { toNumber?: unknown; low?: unknown; high?: unknown; unsigned?: unknown };
      if (typeof long.toNumber === 'function') return toInt64((long.toNumber as () => unknown).call(value));
      if (typeof long.low === 'number' && typeof long.high === 'number') {
        const high = long.unsigned === true ? long.high >>> 0 : long.high | 0;
        return high * 2 ** 32 + (long.low >>> 0);
      }
      return null;
    }
    default:
      return null;
  }
}

/** Below this a timestamp is in seconds (it would be early 1973 in milliseconds, year 5138 in seconds). */
const SECONDS_BELOW = 100_000_000_000;
/** A mute ending after this (2100-01-01) is a mute "forever", whatever far-future value the client chose. */
export const FAR_FUTURE_MS = 4_102_444_800_000;

/** A positive timestamp in seconds or milliseconds, as milliseconds; null for 0, negative or no value. */
export function toEpochMs(value: unknown): number | null {
  const n = toInt64(value);
  if (n === null || n <= 0) return null;
  return n < SECONDS_BELOW ? n * 1000 : n;
}

/** `pinned`: WhatsApp's pin time (seconds in history sync, milliseconds from app-state), 0/null = not pinned. */
export function normalizePinned(value: unknown): number | null {
  const ms = toEpochMs(value);
  return ms === null ? null : Math.min(ms, FAR_FUTURE_MS);
}

/**
 * `muteEndTime`: the end of a mute in seconds or milliseconds. Negative (WhatsApp's "always" is -1)
 * or far-future means muted forever (MUTED_FOREVER); null means not muted. What 0 means depends on
 * the source: in a history conversation it is the protobuf default, "not muted"; in an app-state
 * update Baileys only emits a number for `muted: true`, so 0 there is a mute without end.
 */
export function normalizeMuteEnd(value: unknown, zeroMeans: 'not-muted' | 'forever'): number | null {
  const n = toInt64(value);
  if (n === null) return null;
  if (n === 0) return zeroMeans === 'forever' ? MUTED_FOREVER : null;
  if (n < 0) return MUTED_FOREVER;
  const ms = n < SECONDS_BELOW ? n * 1000 : n;
  return ms >= FAR_FUTURE_MS ? MUTED_FOREVER : ms;
}
