import type { ChatType } from '../../chats/chat-type';
import type { MessageType } from '../../messages/message-type';

/** Media metadata of a message, and what a later download needs (the key travels apart, encrypted at rest). */
export interface MediaMetadata {
  mimetype?: string;
  size?: number;
  fileName?: string;
  width?: number;
  height?: number;
  /** seconds */
  duration?: number;
  directPath?: string;
  url?: string;
  /** base64 */
  fileSha256?: string;
  /** base64 */
  fileEncSha256?: string;
}

/**
 * What one event says about one stored message, keyed by WhatsApp's message key. A message itself
 * sets `ts` and its content; a change (status, edit, revoke, reaction) sets only its own fields.
 * Every field merges commutatively in the store (earliest time, furthest status, latest edit,
 * latest reaction per sender), so the ops of a message give the same row in any order, any number
 * of times. All times are milliseconds since the epoch.
 */
export interface StoredMessageOp {
  kind: 'stored-message';
  /** The chat the message belongs to (Baileys' getChatId), before LID/phone resolution. */
  jid: string;
  chatType: ChatType;
  waId: string;
  fromMe: boolean;
  remoteJid: string;
  participant: string | null;
  /** Set for the message itself; a change alone leaves it undefined. */
  ts?: number;
  type?: MessageType;
  senderJid?: string;
  pushName?: string;
  body?: string;
  quotedId?: string;
  mentions?: string[];
  media?: MediaMetadata;
  mediaKey?: Buffer;
  /** MESSAGE_STATUSES rank, own messages only. */
  status?: number;
  /** With `body`: the text after the edit. */
  editedAt?: number;
  deletedAt?: number;
  /** sender JID ('me' for own reactions) -> [emoji, empty when removed; sender time]. */
  reactions?: Record<string, [string, number]>;
  /** Carried by a history sync (the past): stored without a `message.received` event (docs/events.md). */
  history?: true;
}

/** Messages deleted on the phone ("delete for me", clear chat): by key, or every message of a chat. */
export interface MessageRemovalOp {
  kind: 'message-removal';
  jid: string;
  /** WhatsApp ids with fromMe; absent: every message of the chat. */
  keys?: { waId: string; fromMe: boolean }[];
}
