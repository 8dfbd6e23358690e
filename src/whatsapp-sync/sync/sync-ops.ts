import type { ChatType } from '../../chats/chat-type';
import type { MessageRemovalOp, StoredMessageOp } from './message-ops';

/**
 * The stored copy's vocabulary: what Baileys' events mean for it, with every value already
 * normalized (JIDs, milliseconds, plain numbers). The event mapping produces these as pure data;
 * the store applies them. All times are milliseconds since the epoch.
 */
export type SyncOp = LinkOp | ContactOp | ChatOp | MessageOp | StoredMessageOp | MessageRemovalOp | DeleteOp | HistoryProgressOp | HistoryStatusOp;

/** WhatsApp revealed that a `@lid` JID and a phone JID are the same person. */
export interface LinkOp {
  kind: 'link';
  lid: string;
  pn: string;
}

/** Names of a contact; an absent field leaves the stored one as it is. */
export interface ContactOp {
  kind: 'contact';
  jid: string;
  savedName?: string;
  pushName?: string;
  verifiedName?: string;
}

/** A conversation as a history sync reports it: absolute state as of `at`. */
export interface ChatSnapshot {
  at: number;
  unread: number;
  markedUnread: boolean;
  pinnedAt: number | null;
  mutedUntil: number | null;
  archived: boolean;
}

/** A change to one chat. Fields left undefined are not changed. */
export interface ChatOp {
  kind: 'chat';
  jid: string;
  type: ChatType;
  /** Whether this change creates the chat when it is not stored yet. */
  create: boolean;
  /** The chat's own name: from a history snapshot when `snapshot` is set, else from a live event. */
  subject?: string;
  /** Last activity (message or conversation timestamp); only ever moves lastMessageAt forward. */
  activityAt?: number;
  /** Set by history syncs; never together with the live fields below. */
  snapshot?: ChatSnapshot;
  /** Live (app-state) changes: null clears. */
  pinnedAt?: number | null;
  mutedUntil?: number | null;
  archived?: boolean;
  /** unreadCount 0 from app-state: everything known so far is read. */
  read?: boolean;
  /** unreadCount -1 from app-state: marked as unread. */
  markedUnread?: boolean;
}

/** A real message in a chat: moves lastMessageAt forward, and counts as unread once if incoming. */
export interface MessageOp {
  kind: 'message';
  jid: string;
  type: ChatType;
  id: string;
  at: number | null;
  unread: boolean;
}

export interface DeleteOp {
  kind: 'delete';
  jid: string;
}

export interface HistoryProgressOp {
  kind: 'history';
  syncType: string | null;
  progress: number | null;
  chats: number;
}

export interface HistoryStatusOp {
  kind: 'history-status';
  syncType: string | null;
  status: 'complete' | 'paused';
}
