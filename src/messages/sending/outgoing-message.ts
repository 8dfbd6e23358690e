import type { Readable } from 'node:stream';
import type { MediaKind } from '../../config/app-config';

/**
 * A message the gateway sends, as the outbox stores it (`message_outbox.content`) and the holder
 * hands it to the connection: in the gateway's words, not the WhatsApp library's (the engine
 * translates it).
 */
export type OutgoingContent =
  | { kind: 'text'; text: string; mentions: string[] }
  | { kind: 'location'; latitude: number; longitude: number; name: string | null; address: string | null }
  | { kind: 'contact'; name: string; phone: string }
  /** A file staged in PostgreSQL (media-staging.ts) until the holder uploads it to WhatsApp's media host. */
  | {
      kind: 'media';
      mediaType: MediaKind;
      stagingId: string;
      mimetype: string;
      size: number;
      /** Documents: the name the recipient sees. */
      fileName: string | null;
      caption: string | null;
    }
  /** A reaction to `target`; an empty emoji removes this account's reaction. */
  | { kind: 'reaction'; target: OutgoingKey; emoji: string }
  /** New text for the own text message `target`. */
  | { kind: 'edit'; target: OutgoingKey; text: string }
  /** Deletes the own message `target` for everyone. */
  | { kind: 'delete'; target: OutgoingKey }
  /** Read receipts for these incoming messages of the chat (none: the chat is only marked read in the stored copy). */
  | { kind: 'read'; keys: OutgoingKey[] }
  /** The chat's archive, pin, mute or read state changed in WhatsApp's app state, one patch per field, in CHAT_CHANGE_ORDER. */
  | { kind: 'chat'; changes: ChatChanges; lastMessage: OutgoingLastMessage | null };

/**
 * A chat change as the API takes it: `mutedUntil` in milliseconds (MUTED_FOREVER: forever), null
 * unmutes; `markedUnread: false` marks the chat read (WhatsApp's app state has one read flag).
 */
export interface ChatChanges {
  archived?: boolean;
  pinned?: boolean;
  mutedUntil?: number | null;
  markedUnread?: boolean;
}

/** The order a chat change's fields are written in (each is its own app-state patch). */
export const CHAT_CHANGE_ORDER = ['archived', 'pinned', 'mutedUntil', 'markedUnread'] as const;

/** The chat's newest stored message: WhatsApp's archive and read-state changes name the messages they cover. */
export interface OutgoingLastMessage extends OutgoingKey {
  /** Seconds since the epoch. */
  timestamp: number;
}

/** WhatsApp's key of a stored message. */
export interface OutgoingKey {
  remoteJid: string;
  waId: string;
  fromMe: boolean;
  participant: string | null;
}

/** What an outbox row sends (`message_outbox.action`). */
export type OutboxAction = 'send' | 'reaction' | 'edit' | 'delete' | 'read' | 'chat';

/** The stored message a message replies to, as WhatsApp needs it to show the quote. */
export interface OutgoingQuote {
  remoteJid: string;
  waId: string;
  fromMe: boolean;
  participant: string | null;
  text: string | null;
}

export interface OutboxContent {
  content: OutgoingContent;
  quoted: OutgoingQuote | null;
  /** Reaction, edit, delete: the WhatsApp id of the protocol message that carries the change, fixed when accepted. */
  protocolId?: string;
}

export interface OutgoingMessage extends OutboxContent {
  /** The chat's JID. */
  jid: string;
  /** WhatsApp's id of the message, fixed when it was accepted: a retried send is the same message. */
  waId: string;
  /** A media message's file, read from where it was staged as the upload asks for it (each call a new reading). */
  openMedia?: () => Readable;
}

/** Why an accepted message was not sent (docs/sending.md, "Failure reasons"). */
export const SEND_FAILURES = {
  expired: 'the session was not connected to WhatsApp before the message expired (SEND_EXPIRY_MS); start the session and send it again',
  refused: 'WhatsApp did not accept the message after 3 attempts; check the recipient and send it again',
  deleted: 'the message was deleted (its chat was cleared or deleted) before it was sent',
  rejected:
    'WhatsApp refused the message (an error acknowledgement); check that the recipient is on WhatsApp and that the account may message them, then send it again',
  changeRefused: 'WhatsApp refused the chat change (an app-state error); the chat keeps its state on WhatsApp, as List chats shows it',
  unacknowledged:
    'WhatsApp did not acknowledge the message after 3 attempts (SEND_ACK_TIMEOUT_MS each; the connection may keep dropping); it may not have reached the recipient: check the session and send it again',
  unacknowledgedMedia:
    'WhatsApp did not acknowledge the media message within SEND_ACK_TIMEOUT_MS (a file is not sent twice: its upload is gone); it may not have reached the recipient: send it again',
} as const;
export type SendFailure = keyof typeof SEND_FAILURES;
