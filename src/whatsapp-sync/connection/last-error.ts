import type { ConnectionEvent } from './whatsapp-engine';
import { storableText } from '../sync/values';

/**
 * `lastError` is shown to the tenant: it says what went wrong in words that hold no database or
 * network internals (addresses, statement text, stack frames). WhatsApp's own reasons pass
 * through; everything else gets a fixed message, and the detail goes to the log with the session id.
 */

const MAX_WHATSAPP_REASON_LENGTH = 200;

const NETWORK_FAILURES: Record<string, string> = {
  ENOTFOUND: 'its address did not resolve (DNS)',
  EAI_AGAIN: 'its address did not resolve (DNS)',
  ECONNREFUSED: 'the connection was refused',
  ECONNRESET: 'the connection was reset',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'no route to it',
  ENETUNREACH: 'no route to it',
};

/** For a connection that could not be opened because of the gateway itself (database, credentials store, a bug). */
export const GATEWAY_FAILURE = 'the connection failed inside the gateway; the gateway log has the detail under this session id';
/** For a connection that could not be opened because the gateway's database did not answer. */
export const DATABASE_UNAVAILABLE = 'the gateway could not reach its database; it keeps retrying';

/** The lastError of a close. */
export function lastErrorOfClose(event: Extract<ConnectionEvent, { type: 'close' }>): string {
  switch (event.origin) {
    case 'whatsapp':
      return event.message ? storableText(event.message, MAX_WHATSAPP_REASON_LENGTH) : 'the connection closed';
    case 'network':
      return unreachable(event.message);
    case 'gateway':
      return GATEWAY_FAILURE;
  }
}

/** "WhatsApp could not be reached: ..." for a system error code (ENOTFOUND, ECONNREFUSED, ...). */
export function unreachable(code: string | null): string {
  const known = code ? NETWORK_FAILURES[code] : undefined;
  if (known) return `WhatsApp could not be reached: ${known} (${code})`;
  return `WhatsApp could not be reached: network error${code && /^E[A-Z_]{2,30}$/.test(code) ? ` (${code})` : ''}`;
}
