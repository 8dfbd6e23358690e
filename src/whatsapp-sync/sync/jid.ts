import type { ChatType } from '../../chats/chat-type';
import { isStorableText } from '../../common/text/storable-text';

/** Far above any real JID (a phone number or LID, a server name): a longer string is not one. */
const MAX_JID_LENGTH = 256;

/**
 * A JID as the stored copy keys it: `user@server` without device or agent, `c.us` as
 * `s.whatsapp.net`, hosted accounts folded onto their plain server (as Baileys' own
 * `jidNormalizedUser`/`cleanMessage` do). Null when it is not a JID, including a string too long
 * to be one or holding characters PostgreSQL cannot store (NUL, half a surrogate pair).
 */
export function normalizeJid(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > MAX_JID_LENGTH || !isStorableText(raw)) return null;
  const at = raw.indexOf('@');
  if (at <= 0) return null;
  // The user ends at the device (':') or agent ('_') suffix.
  let userEnd = at;
  const colon = raw.indexOf(':');
  if (colon >= 0 && colon < userEnd) userEnd = colon;
  const underscore = raw.indexOf('_');
  if (underscore >= 0 && underscore < userEnd) userEnd = underscore;
  let server = raw.slice(at + 1).toLowerCase();
  if (userEnd === 0 || !server) return null;
  if (server === 'c.us' || server === 'hosted') server = 's.whatsapp.net';
  else if (server === 'hosted.lid') server = 'lid';
  // Most JIDs arrive normalized already (history syncs carry 100,000s): no new string for them.
  if (userEnd === at && raw.length - at - 1 === server.length && raw.endsWith(server)) return raw;
  return `${raw.slice(0, userEnd)}@${server}`;
}

export const STATUS_BROADCAST = 'status@broadcast';

export const isLidJid = (jid: string): boolean => jid.endsWith('@lid');
export const isPnJid = (jid: string): boolean => jid.endsWith('@s.whatsapp.net');

/**
 * The chat type a (normalized) JID stands for, or null when it is not a chat: status broadcasts
 * (WhatsApp's stories), calls and servers the gateway does not know.
 */
export function chatTypeOf(jid: string): ChatType | null {
  const server = jid.slice(jid.indexOf('@') + 1);
  switch (server) {
    case 's.whatsapp.net':
    case 'lid':
    case 'bot':
      return 'dm';
    case 'g.us':
      return 'group';
    case 'broadcast':
      return jid === STATUS_BROADCAST ? null : 'broadcast';
    case 'newsletter':
      return 'newsletter';
    default:
      return null;
  }
}

/** A LID <-> phone-number pair when `a` and `b` are one of each, in either order. */
export function lidPnPair(a: unknown, b: unknown): { lid: string; pn: string } | null {
  const y = normalizeJid(b);
  if (!y) return null;
  const x = normalizeJid(a);
  if (!x) return null;
  if (isLidJid(x) && isPnJid(y)) return { lid: x, pn: y };
  if (isPnJid(x) && isLidJid(y)) return { lid: y, pn: x };
  return null;
}
