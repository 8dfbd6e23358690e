import type { ChatType } from '../../chats/chat-type';
import type { BaileysEventBatch } from '../sync-event-sink';
import { chatTypeOf, isLidJid, isPnJid, lidPnPair, normalizeJid, STATUS_BROADCAST } from './jid';
import { chatOfKey, MessageMappingContext, messageUpdateOps, reactionOps, receiptOps, removalOps, storedMessageOps } from './message-mapping';
import type { ChatOp, ChatSnapshot, ContactOp, LinkOp, MessageOp, SyncOp } from './sync-ops';
import { normalizeMuteEnd, normalizePinned, storableText, toEpochMs, toInt64 } from './values';

/**
 * Baileys events -> SyncOps, as pure functions: no I/O, no clock, input never mutated.
 * docs/sync.md states the rules; `event-mapping.spec.ts` pins them down.
 */

/** What the mapping borrows from Baileys itself (loaded once; Baileys is ESM-only). */
export interface MappingHelpers {
  /** Baileys' `isRealMessage`: a message that shows in the chat (not a protocol message, reaction, ...). */
  isRealMessage(message: never): boolean;
}

/**
 * The order in which the events of one batch are applied, and recorded. Baileys' buffer already
 * consolidated the batch per chat; what is left is the order between event types: mappings first
 * (so everything after them resolves a person to one chat), deletions last (when a batch holds a
 * chat's messages and its deletion, the deletion came later: a later update would have cancelled it).
 */
export const APPLY_ORDER = [
  'lid-mapping.update',
  'contacts.upsert',
  'contacts.update',
  'messaging-history.set',
  'chats.upsert',
  'groups.upsert',
  'groups.update',
  'messages.upsert',
  'messages.update',
  'message-receipt.update',
  'messages.reaction',
  'messages.delete',
  'chats.update',
  'chats.delete',
  'messaging-history.status',
] as const;

export type AppliedEvent = (typeof APPLY_ORDER)[number];

const MAX_SYNC_TYPE_LENGTH = 64;
const MAX_MESSAGE_ID_LENGTH = 128;
const HISTORY_SYNC_TYPES = ['initial_bootstrap', 'initial_status_v3', 'full', 'recent', 'push_name', 'non_blocking_data', 'on_demand'];

/** proto.HistorySync.HistorySyncType as a name (a number live, possibly its name in a JSON recording). */
export function historySyncTypeName(value: unknown): string | null {
  if (typeof value === 'string' && value.trim())
    return /^\d+$/.test(value) ? historySyncTypeName(Number(value)) : storableText(value.toLowerCase(), MAX_SYNC_TYPE_LENGTH);
  if (typeof value === 'number' && Number.isInteger(value)) return HISTORY_SYNC_TYPES[value] ?? `type_${value}`;
  return null;
}

/** The batch's events that the stored copy applies, in APPLY_ORDER. Unknown events are left out. */
export function eventsInApplyOrder(batch: BaileysEventBatch): { event: AppliedEvent; data: unknown }[] {
  const present = batch as Record<string, unknown>;
  return APPLY_ORDER.filter((event) => present[event] !== undefined && present[event] !== null).map((event) => ({ event, data: present[event] }));
}

/**
 * All ops of a batch, event after event in APPLY_ORDER. `receivedAt` (ms) dates the changes
 * whose event carries no time of its own (a revoke through messages.update).
 */
export function mapBatch(batch: BaileysEventBatch, helpers: MappingHelpers, receivedAt = 0): SyncOp[] {
  return eventsInApplyOrder(batch).flatMap(({ event, data }) => mapEvent(event, data, helpers, receivedAt));
}

export function mapEvent(event: AppliedEvent, data: unknown, helpers: MappingHelpers, receivedAt = 0): SyncOp[] {
  const context: MessageMappingContext = { receivedAt };
  switch (event) {
    case 'lid-mapping.update':
      return linkOps([data]);
    case 'contacts.upsert':
    case 'contacts.update':
      return mapContacts(list(data));
    case 'messaging-history.set':
      return mapHistorySet(record(data), helpers, context);
    case 'chats.upsert':
    case 'chats.update':
      return withLinksFirst(list(data).flatMap((chat) => mapChatChange(record(chat), event === 'chats.upsert', helpers)));
    case 'groups.upsert':
    case 'groups.update':
      return list(data).flatMap((group) => mapGroup(record(group)));
    case 'messages.upsert': {
      // The chats' ops first, then the stored messages (which need their chat) as one run.
      const messages = list(record(data).messages);
      const ops = withLinksFirst(messages.flatMap((message) => mapMessage(record(message), helpers)));
      for (const message of messages) for (const op of storedMessageOps(message, context)) ops.push(op);
      return ops;
    }
    case 'messages.update':
      return messageUpdateOps(list(data), context);
    case 'message-receipt.update':
      return receiptOps(list(data));
    case 'messages.reaction':
      return reactionOps(list(data), context);
    case 'messages.delete':
      return removalOps(data);
    case 'chats.delete':
      return list(data).flatMap((jid) => {
        const normalized = normalizeJid(jid);
        return normalized && chatTypeOf(normalized) ? [{ kind: 'delete' as const, jid: normalized }] : [];
      });
    case 'messaging-history.status': {
      const status = record(data).status;
      return status === 'complete' || status === 'paused' ? [{ kind: 'history-status', syncType: historySyncTypeName(record(data).syncType), status }] : [];
    }
  }
}

function mapHistorySet(data: Record<string, unknown>, helpers: MappingHelpers, context: MessageMappingContext): SyncOp[] {
  const syncType = historySyncTypeName(data.syncType);
  const ops: SyncOp[] = [...linkOps(list(data.lidPnMappings)), ...mapContacts(list(data.contacts))];
  // Chats only come from conversation syncs: Baileys' processHistoryMessage gives a push-name sync
  // contacts and no chats. The syncType is not a filter: when Baileys' buffer merges several
  // syncs into one event, it carries the type of the last one (often push_name) for all of them.
  const chats = list(data.chats);
  for (const chat of chats) for (const op of mapHistoryChat(record(chat), helpers)) ops.push(op);
  const ordered = withLinksFirst(ops);
  // Every message the chunk carries, after the chats they belong to. The conversation snapshots
  // already hold the chats' last activity and unread counts, so these only fill the store.
  for (const message of list(data.messages))
    for (const op of storedMessageOps(message, context)) {
      op.history = true;
      ordered.push(op);
    }
  ordered.push({ kind: 'history', syncType, progress: toInt64(data.progress), chats: chats.length });
  return ordered;
}

/** The LID <-> phone-number links a chat record reveals through its pnJid / lidJid fields. */
function alternateJidLinks(jid: string, chat: Record<string, unknown>): SyncOp[] {
  const ops: SyncOp[] = [];
  for (const alt of [chat.pnJid, chat.lidJid]) {
    const pair = lidPnPair(jid, alt);
    if (pair) ops.push({ kind: 'link', ...pair });
  }
  return ops;
}

/** A history conversation: absolute state as of its last activity. */
function mapHistoryChat(chat: Record<string, unknown>, helpers: MappingHelpers): SyncOp[] {
  const jid = normalizeJid(chat.id);
  const type = jid ? chatTypeOf(jid) : null;
  if (!jid || !type) return [];
  const ops: SyncOp[] = alternateJidLinks(jid, chat);
  const lastMessage = record(record(list(chat.messages)[0]).message);
  const at = maxOf([chat.conversationTimestamp, chat.lastMsgTimestamp, chat.lastMessageRecvTimestamp, lastMessage.messageTimestamp].map(toEpochMs));
  const unreadCount = toInt64(chat.unreadCount) ?? 0;
  const snapshot: ChatSnapshot = {
    at: at ?? 0,
    unread: Math.max(unreadCount, 0),
    markedUnread: chat.markedAsUnread === true || unreadCount < 0,
    pinnedAt: normalizePinned(chat.pinned),
    mutedUntil: normalizeMuteEnd(chat.muteEndTime, 'not-muted'),
    archived: chat.archived === true,
  };
  const op: ChatOp = { kind: 'chat', jid, type, create: true, snapshot };
  const subject = text(chat.name) ?? text(chat.displayName);
  if (subject !== undefined) op.subject = subject;
  if (at !== null) op.activityAt = at;
  ops.push(op);
  // A live message Baileys' buffer folded into the conversation is also a message of the chat.
  if (lastMessage.key) ops.push(...mapMessage(lastMessage, helpers).filter((m) => m.kind === 'link'));
  return ops;
}

/**
 * chats.update / chats.upsert. A DM gets no chats.upsert, so any meaningful change creates the
 * chat. unreadCount: 0 = read, -1 = marked unread, null = no change; a positive count is the
 * increment of incoming messages, which are counted from the messages themselves (once each).
 */
function mapChatChange(chat: Record<string, unknown>, isUpsert: boolean, helpers: MappingHelpers): SyncOp[] {
  const jid = normalizeJid(chat.id);
  const type = jid ? chatTypeOf(jid) : null;
  if (!jid || !type) return [];
  const ops: SyncOp[] = alternateJidLinks(jid, chat);
  const op: ChatOp = { kind: 'chat', jid, type, create: true };
  const subject = text(chat.name);
  if (subject !== undefined) op.subject = subject;
  const activity = toEpochMs(chat.conversationTimestamp);
  if (activity !== null) op.activityAt = activity;
  if ('pinned' in chat && chat.pinned !== undefined) op.pinnedAt = normalizePinned(chat.pinned);
  if ('muteEndTime' in chat && chat.muteEndTime !== undefined) op.mutedUntil = chat.muteEndTime === null ? null : normalizeMuteEnd(chat.muteEndTime, 'forever');
  if (typeof chat.archived === 'boolean') op.archived = chat.archived;
  const unread = chat.unreadCount === null || chat.unreadCount === undefined ? null : toInt64(chat.unreadCount);
  if (unread === 0) op.read = true;
  else if (unread !== null && unread < 0) op.markedUnread = true;
  if (chat.markedAsUnread === true) op.markedUnread = true;

  if (isUpsert || CHAT_CHANGES.some((field) => op[field] !== undefined)) ops.push(op);
  // processMessage's update carries the message that caused it: count it here too (deduplicated).
  for (const entry of list(chat.messages)) ops.push(...mapMessage(record(record(entry).message), helpers));
  return ops;
}

const CHAT_CHANGES = ['subject', 'activityAt', 'pinnedAt', 'mutedUntil', 'archived', 'read', 'markedUnread'] as const;

/** groups.update / groups.upsert: the subject is the group chat's name; a group you are in is a chat. */
function mapGroup(group: Record<string, unknown>): SyncOp[] {
  const jid = normalizeJid(group.id);
  if (!jid || chatTypeOf(jid) !== 'group') return [];
  const subject = text(group.subject);
  return subject === undefined ? [] : [{ kind: 'chat', jid, type: 'group', create: true, subject }];
}

/**
 * One message of messages.upsert. Its chat is Baileys' `getChatId`: the remote JID, or for a
 * message someone sent to a broadcast list, the sender. Only real messages touch the chat; an
 * incoming one without a stub type counts as unread (Baileys' `shouldIncrementChatUnread`).
 */
function mapMessage(message: Record<string, unknown>, helpers: MappingHelpers): SyncOp[] {
  const key = record(message.key);
  const remote = normalizeJid(key.remoteJid);
  if (!remote) return [];
  const ops: SyncOp[] = [];
  const remotePair = lidPnPair(key.remoteJid, key.remoteJidAlt);
  if (remotePair) ops.push({ kind: 'link', ...remotePair });
  const participantPair = lidPnPair(key.participant, key.participantAlt);
  if (participantPair) ops.push({ kind: 'link', ...participantPair });

  const fromMe = key.fromMe === true;
  const chat = chatOfKey(key);
  const jid = chat?.jid;
  const type: ChatType | null = chat?.chatType ?? null;
  const id = typeof key.id === 'string' ? storableText(key.id, MAX_MESSAGE_ID_LENGTH) || null : null;
  if (!jid || !type || !id || !isReal(message, helpers)) return ops;
  const stub = message.messageStubType;
  const hasStub = typeof stub === 'number' ? stub > 0 : typeof stub === 'string' ? stub !== '' && stub !== 'UNKNOWN' && stub !== '0' : false;
  const op: MessageOp = { kind: 'message', jid, type, id, at: toEpochMs(message.messageTimestamp), unread: !fromMe && !hasStub };
  ops.push(op);
  return ops;
}

function isReal(message: Record<string, unknown>, helpers: MappingHelpers): boolean {
  try {
    return helpers.isRealMessage(message as never);
  } catch {
    return false;
  }
}

/** contacts.upsert / contacts.update / history contacts: names, and the LID pair a contact reveals. */
function mapContacts(contacts: unknown[]): SyncOp[] {
  const ops: SyncOp[] = [];
  for (const raw of contacts) {
    const contact = record(raw);
    const jid = normalizeJid(contact.id);
    if (!jid || jid === STATUS_BROADCAST) continue;
    const alt = isLidJid(jid) ? contact.phoneNumber : isPnJid(jid) ? contact.lid : undefined;
    const pair = lidPnPair(jid, alt);
    if (pair) ops.push({ kind: 'link', ...pair });
    const op: ContactOp = { kind: 'contact', jid };
    const saved = text(contact.name);
    const push = text(contact.notify);
    const verified = text(contact.verifiedName);
    if (saved !== undefined) op.savedName = saved;
    if (push !== undefined) op.pushName = push;
    if (verified !== undefined) op.verifiedName = verified;
    if (saved !== undefined || push !== undefined || verified !== undefined) ops.push(op);
  }
  return ops;
}

function linkOps(mappings: unknown[]): LinkOp[] {
  return mappings.flatMap((raw) => {
    const mapping = record(raw);
    const pair = lidPnPair(mapping.lid, mapping.pn);
    return pair ? [{ kind: 'link' as const, ...pair }] : [];
  });
}

/** Within one event, the LID pairs it reveals (each once) are applied before anything else it carries. */
function withLinksFirst(ops: SyncOp[]): SyncOp[] {
  const seen = new Set<string>();
  const links: SyncOp[] = [];
  const rest: SyncOp[] = [];
  for (const op of ops) {
    if (op.kind !== 'link') rest.push(op);
    else if (!seen.has(`${op.lid} ${op.pn}`)) {
      seen.add(`${op.lid} ${op.pn}`);
      links.push(op);
    }
  }
  if (links.length === 0) return rest;
  for (const op of rest) links.push(op);
  return links;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** A name from WhatsApp, cleaned and bounded (storableText); undefined when nothing is left of it. */
function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const cleaned = storableText(value);
  return cleaned.trim() !== '' ? cleaned : undefined;
}

function maxOf(values: (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length === 0 ? null : Math.max(...present);
}
