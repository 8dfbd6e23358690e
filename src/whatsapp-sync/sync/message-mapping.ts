import type { ChatType } from '../../chats/chat-type';
import { MEDIA_TYPES, MESSAGE_STATUSES, MessageStatus, MessageType, statusRank } from '../../messages/message-type';
import { chatTypeOf, normalizeJid, STATUS_BROADCAST } from './jid';
import type { MediaMetadata, MessageRemovalOp, StoredMessageOp } from './message-ops';
import { storableText, toEpochMs, toInt64 } from './values';

/**
 * Baileys messages and message events -> StoredMessageOps, as pure functions (the event mapping's
 * counterpart for the messages store; docs/sync.md, "Messages"). Every value is hostile input:
 * strings lose NUL characters and are cut to a bound, JIDs and ids that are not plausible drop
 * the op, numbers outside their range are left out, byte fields must have their exact length.
 */

const MAX_BODY = 65_536;
const MAX_SHORT = 1024;
const MAX_JID = 256;
const MAX_WA_ID = 128;
const MAX_MENTIONS = 256;
const MAX_DIMENSION = 100_000;
const MAX_DURATION_S = 100_000_000;
const MAX_REACTIONS = 1024;

/** When the batch arrived. */
export interface MessageMappingContext {
  /** ms; the time of a change whose event carries none (a revoke through messages.update). */
  receivedAt: number;
}

// proto.WebMessageInfo.Status, by number (live) or name (a proto serialized to JSON).
const WA_STATUS: Record<string, MessageStatus> = {
  '0': 'failed',
  ERROR: 'failed',
  '1': 'pending',
  PENDING: 'pending',
  '2': 'sent',
  SERVER_ACK: 'sent',
  '3': 'delivered',
  DELIVERY_ACK: 'delivered',
  '4': 'read',
  READ: 'read',
  '5': 'played',
  PLAYED: 'played',
};
const STUB_REVOKE = new Set<unknown>([1, '1', 'REVOKE']);
const STUB_CIPHERTEXT = new Set<unknown>([2, '2', 'CIPHERTEXT']);
const PROTOCOL_REVOKE = new Set<unknown>([0, '0', 'REVOKE']);

/** Wrappers WhatsApp puts around the real content (disappearing, view once, captioned documents). */
const WRAPPERS = ['ephemeralMessage', 'viewOnceMessage', 'viewOnceMessageV2', 'viewOnceMessageV2Extension', 'documentWithCaptionMessage', 'editedMessage'];
/** Content that is not a message of its own: a change to another message, or transport. */
const NOT_MESSAGES = new Set([
  'protocolMessage',
  'reactionMessage',
  'pollUpdateMessage',
  'encEventResponseMessage',
  'senderKeyDistributionMessage',
  'keepInChatMessage',
]);
const CONTENT_TYPES: Record<string, MessageType> = {
  conversation: 'text',
  extendedTextMessage: 'text',
  imageMessage: 'image',
  videoMessage: 'video',
  ptvMessage: 'video',
  audioMessage: 'audio',
  documentMessage: 'document',
  stickerMessage: 'sticker',
  locationMessage: 'location',
  liveLocationMessage: 'location',
  contactMessage: 'contact',
  contactsArrayMessage: 'contact',
  pollCreationMessage: 'poll',
  pollCreationMessageV2: 'poll',
  pollCreationMessageV3: 'poll',
};

/** The chat a message key belongs to (Baileys' getChatId): the remote JID, or the sender of a message to a broadcast list. */
export function chatOfKey(key: Record<string, unknown>): { jid: string; chatType: ChatType; remoteJid: string } | null {
  const remoteJid = jidOf(key.remoteJid);
  if (!remoteJid) return null;
  const isListBroadcast = remoteJid.endsWith('@broadcast') && remoteJid !== STATUS_BROADCAST;
  const jid = isListBroadcast && key.fromMe !== true ? jidOf(key.participant) : remoteJid;
  const chatType = jid ? chatTypeOf(jid) : null;
  return jid && chatType ? { jid, chatType, remoteJid } : null;
}

/** The op's key fields for a message key, or null when the key is not a usable one. */
function keyed(key: Record<string, unknown>): StoredMessageOp | null {
  const chat = chatOfKey(key);
  const waId = waIdOf(key.id);
  if (!chat || !waId) return null;
  return {
    kind: 'stored-message',
    jid: chat.jid,
    chatType: chat.chatType,
    waId,
    fromMe: key.fromMe === true,
    remoteJid: chat.remoteJid,
    participant: jidOf(key.participant),
  };
}

/**
 * A message as messages.upsert or a history sync carries it: the stored message, or for a
 * protocol message the change it makes (a revoke). Reactions, poll votes and other transport
 * give nothing here (reactions come through messages.reaction).
 */
export function storedMessageOps(raw: unknown, context: MessageMappingContext): StoredMessageOp[] {
  const message = record(raw);
  const key = record(message.key);
  const op = keyed(key);
  if (!op) return [];
  const ts = toEpochMs(message.messageTimestamp);
  const outer = record(message.message);
  const { content, edited } = unwrap(outer);
  const protocol = record(content.protocolMessage);

  if (present(content.protocolMessage)) {
    // The carrier of a change: a revoke names its target by id, in the carrier's chat and direction.
    if (!PROTOCOL_REVOKE.has(protocol.type)) return [];
    const target = keyed({ ...key, id: record(protocol.key).id });
    return target ? [{ ...target, deletedAt: ts ?? context.receivedAt }] : [];
  }

  if (message.message === null || message.message === undefined) {
    // Baileys' buffer folds a revoke into the message it deletes (message null, stub REVOKE).
    if (STUB_REVOKE.has(message.messageStubType)) {
      if (ts !== null) op.ts = ts;
      op.deletedAt = context.receivedAt;
      addOwnState(op, message);
      return [op];
    }
    // Any other stub is a system line of the chat (a group change, a number change, ...), except a
    // message WhatsApp could not decrypt yet (CIPHERTEXT): it arrives again with its content.
    if (!hasStub(message.messageStubType) || STUB_CIPHERTEXT.has(message.messageStubType)) return [];
    op.ts = ts ?? context.receivedAt;
    op.type = 'system';
    addSender(op, message);
    addOwnState(op, message);
    return [op];
  }

  const contentKey = Object.keys(content).find(
    (name) => present(content[name]) && (CONTENT_TYPES[name] !== undefined || (name.endsWith('Message') && !NOT_MESSAGES.has(name))),
  );
  if (!contentKey) return [];
  const fields = record(content[contentKey]);
  let type: MessageType = CONTENT_TYPES[contentKey] ?? 'unsupported';
  if (type === 'audio' && fields.ptt === true) type = 'voice';
  // Fields are set on the op in place (no spreads: ingest maps every message of a history sync).
  const stored = op;
  stored.ts = ts ?? context.receivedAt;
  stored.type = type;
  addSender(stored, message);
  addOwnState(stored, message);
  const body = bodyOf(contentKey, content[contentKey], fields);
  if (body !== undefined) stored.body = body;
  if (edited) stored.editedAt = stored.ts;
  const contextInfo = record(fields.contextInfo);
  const quoted = waIdOf(contextInfo.stanzaId);
  if (quoted) stored.quotedId = quoted;
  const mentions = jidList(contextInfo.mentionedJid);
  if (mentions.length > 0) stored.mentions = mentions;
  if (MEDIA_TYPES.has(type)) addMedia(stored, fields);
  return [stored];
}

/** messages.update: delivery status of own messages, edits, revokes. */
export function messageUpdateOps(updates: unknown[], context: MessageMappingContext): StoredMessageOp[] {
  const ops: StoredMessageOp[] = [];
  for (const raw of updates) {
    const entry = record(raw);
    const op = keyed(record(entry.key));
    const update = record(entry.update);
    if (!op) continue;
    const status = op.fromMe ? statusOf(update.status) : undefined;
    if (status !== undefined) op.status = status;
    if (update.message === null && STUB_REVOKE.has(update.messageStubType)) op.deletedAt = context.receivedAt;
    const edit = record(record(record(update.message).editedMessage).message);
    if (Object.keys(edit).length > 0) {
      const { content } = unwrap(edit);
      const contentKey = Object.keys(content).find((name) => present(content[name]) && CONTENT_TYPES[name] !== undefined);
      const body = contentKey ? bodyOf(contentKey, content[contentKey], record(content[contentKey])) : undefined;
      if (body !== undefined) {
        op.body = body;
        op.editedAt = toEpochMs(update.messageTimestamp) ?? context.receivedAt;
      }
    }
    if (op.status !== undefined || op.deletedAt !== undefined || op.editedAt !== undefined) ops.push(op);
  }
  return ops;
}

/** messages.reaction: one emoji per sender, the latest by the sender's time; an empty one removes it. */
export function reactionOps(reactions: unknown[], context: MessageMappingContext): StoredMessageOp[] {
  const ops: StoredMessageOp[] = [];
  for (const raw of reactions) {
    const entry = record(raw);
    const op = keyed(record(entry.key));
    const reaction = reactionEntry(record(entry.reaction), context);
    if (op && reaction) ops.push({ ...op, reactions: { [reaction[0]]: reaction[1] } });
  }
  return ops;
}

/** message-receipt.update (groups): how far own messages got with any recipient. */
export function receiptOps(receipts: unknown[]): StoredMessageOp[] {
  const ops: StoredMessageOp[] = [];
  for (const raw of receipts) {
    const entry = record(raw);
    const op = keyed(record(entry.key));
    if (!op || !op.fromMe) continue;
    const status = receiptStatus(record(entry.receipt));
    if (status) ops.push({ ...op, status: statusRank(status) });
  }
  return ops;
}

/** How far a message got with one group member, from that member's receipt. */
function receiptStatus(receipt: Record<string, unknown>): MessageStatus | undefined {
  if (toEpochMs(receipt.playedTimestamp) !== null) return 'played';
  if (toEpochMs(receipt.readTimestamp) !== null) return 'read';
  if (toEpochMs(receipt.receiptTimestamp) !== null) return 'delivered';
  return undefined;
}

/** messages.delete: by keys, or every message of a chat ({ jid, all: true }). */
export function removalOps(data: unknown): MessageRemovalOp[] {
  const event = record(data);
  if (event.all === true) {
    const chat = chatOfKey({ remoteJid: event.jid, fromMe: true });
    return chat ? [{ kind: 'message-removal', jid: chat.jid }] : [];
  }
  const byChat = new Map<string, { waId: string; fromMe: boolean }[]>();
  for (const raw of list(event.keys)) {
    const op = keyed(record(raw));
    if (!op) continue;
    const keys = byChat.get(op.jid) ?? [];
    keys.push({ waId: op.waId, fromMe: op.fromMe });
    byChat.set(op.jid, keys);
  }
  return [...byChat].map(([jid, keys]) => ({ kind: 'message-removal', jid, keys }));
}

function unwrap(outer: Record<string, unknown>): { content: Record<string, unknown>; edited: boolean } {
  let content = outer;
  let edited = false;
  for (let depth = 0; depth < 5; depth++) {
    const wrapper = WRAPPERS.find((name) => present(content[name]));
    if (!wrapper) break;
    if (wrapper === 'editedMessage') edited = true;
    content = record(record(content[wrapper]).message);
  }
  return { content, edited };
}

function bodyOf(contentKey: string, value: unknown, fields: Record<string, unknown>): string | undefined {
  switch (contentKey) {
    case 'conversation':
      return textOf(value, MAX_BODY);
    case 'extendedTextMessage':
      return textOf(fields.text, MAX_BODY);
    case 'locationMessage':
    case 'liveLocationMessage':
      return textOf(fields.name, MAX_SHORT) ?? textOf(fields.address, MAX_SHORT) ?? textOf(fields.comment, MAX_SHORT) ?? textOf(fields.caption, MAX_BODY);
    case 'contactMessage':
    case 'contactsArrayMessage':
      return textOf(fields.displayName, MAX_SHORT);
    case 'pollCreationMessage':
    case 'pollCreationMessageV2':
    case 'pollCreationMessageV3':
      return textOf(fields.name, MAX_BODY);
    default:
      return textOf(fields.caption, MAX_BODY);
  }
}

function addMedia(op: StoredMessageOp, fields: Record<string, unknown>): void {
  const media: MediaMetadata = {};
  const mimetype = textOf(fields.mimetype, 255);
  if (mimetype && /^[\w.+-]+\/[\w.+-]+/.test(mimetype)) media.mimetype = mimetype.split(';')[0].trim().toLowerCase();
  const size = boundedInt(fields.fileLength, 0, Number.MAX_SAFE_INTEGER);
  if (size !== undefined) media.size = size;
  const fileName = textOf(fields.fileName, 255);
  if (fileName) media.fileName = fileName;
  const width = boundedInt(fields.width, 1, MAX_DIMENSION);
  const height = boundedInt(fields.height, 1, MAX_DIMENSION);
  if (width !== undefined) media.width = width;
  if (height !== undefined) media.height = height;
  const duration = boundedInt(fields.seconds, 0, MAX_DURATION_S);
  if (duration !== undefined) media.duration = duration;
  const directPath = textOf(fields.directPath, 2048);
  if (directPath && directPath.startsWith('/')) media.directPath = directPath;
  const url = textOf(fields.url, 2048);
  if (url && url.startsWith('https://')) media.url = url;
  const fileSha256 = bytesOf(fields.fileSha256, 32);
  if (fileSha256) media.fileSha256 = fileSha256.toString('base64');
  const fileEncSha256 = bytesOf(fields.fileEncSha256, 32);
  if (fileEncSha256) media.fileEncSha256 = fileEncSha256.toString('base64');
  const mediaKey = bytesOf(fields.mediaKey, 32);
  if (Object.keys(media).length > 0) op.media = media;
  if (mediaKey) op.mediaKey = mediaKey;
}

function addSender(op: StoredMessageOp, message: Record<string, unknown>): void {
  if (op.fromMe) return;
  const senderJid = op.participant ?? (op.chatType === 'dm' ? op.remoteJid : null);
  if (senderJid) op.senderJid = senderJid;
  const pushName = textOf(message.pushName, 255);
  if (pushName) op.pushName = pushName;
}

/**
 * Status and reactions a message carries itself (history, or updates Baileys' buffer folded into
 * it: a group member's receipt arriving while the message's upsert is buffered becomes an entry of
 * its userReceipt, and no message-receipt.update is emitted).
 */
function addOwnState(op: StoredMessageOp, message: Record<string, unknown>): void {
  if (op.fromMe) {
    const ranks = [statusOf(message.status)];
    if (Array.isArray(message.userReceipt)) {
      for (const receipt of message.userReceipt.slice(0, MAX_REACTIONS)) {
        const status = receiptStatus(record(receipt));
        if (status) ranks.push(statusRank(status));
      }
    }
    const furthest = Math.max(...ranks.filter((rank): rank is number => rank !== undefined));
    if (Number.isFinite(furthest)) op.status = furthest;
  }
  if (!Array.isArray(message.reactions) || message.reactions.length === 0) return;
  const reactions: Record<string, [string, number]> = {};
  let count = 0;
  for (const raw of message.reactions) {
    const reaction = reactionEntry(record(raw), { receivedAt: 0 });
    if (!reaction || count >= MAX_REACTIONS) continue;
    const [who, value] = reaction;
    if (!reactions[who] || value[1] > reactions[who][1]) reactions[who] = value;
    count++;
  }
  if (count > 0) op.reactions = reactions;
}

function reactionEntry(reaction: Record<string, unknown>, context: { receivedAt: number }): [string, [string, number]] | null {
  const key = record(reaction.key);
  const who = key.fromMe === true ? 'me' : (jidOf(key.participant) ?? jidOf(key.remoteJid));
  if (!who) return null;
  const emoji = typeof reaction.text === 'string' ? storableText(reaction.text, 32) : '';
  const at = toEpochMs(reaction.senderTimestampMs) ?? context.receivedAt;
  return [who, [emoji, at]];
}

function statusOf(value: unknown): number | undefined {
  const status = WA_STATUS[String(value)];
  return status && MESSAGE_STATUSES.includes(status) ? statusRank(status) : undefined;
}

function hasStub(stub: unknown): boolean {
  if (typeof stub === 'number') return stub > 0;
  return typeof stub === 'string' && stub !== '' && stub !== 'UNKNOWN' && stub !== '0';
}

/** A JID from WhatsApp, normalized, when plausible: bounded, no control characters. */
export function jidOf(raw: unknown): string | null {
  // eslint-disable-next-line no-control-regex -- control characters are what it refuses
  if (typeof raw !== 'string' || raw.length > MAX_JID || /[\u0000-\u001f\s]/.test(raw)) return null;
  return normalizeJid(raw);
}

function waIdOf(raw: unknown): string | null {
  return typeof raw === 'string' && raw.length > 0 && raw.length <= MAX_WA_ID && /^[\x21-\x7e]+$/.test(raw) ? raw : null;
}

function jidList(raw: unknown): string[] {
  const jids = new Set<string>();
  for (const value of list(raw)) {
    const jid = jidOf(value);
    if (jid) jids.add(jid);
    if (jids.size >= MAX_MENTIONS) break;
  }
  return [...jids];
}

/** Text PostgreSQL can store (values.ts storableText: no NUL, no half surrogate pair), at most `max` UTF-16 units; undefined when empty. */
export function textOf(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  return storableText(value, max) || undefined;
}

function boundedInt(value: unknown, min: number, max: number): number | undefined {
  const n = toInt64(value);
  return n !== null && n >= min && n <= max ? n : undefined;
}

/** Bytes as Baileys has them (Uint8Array live, base64 in a proto serialized to JSON), of exactly `length` bytes. */
function bytesOf(value: unknown, length: number): Buffer | undefined {
  let bytes: Buffer | undefined;
  if (value instanceof Uint8Array) bytes = Buffer.from(value);
  else if (typeof value === 'string' && value.length <= 4 * length && /^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) bytes = Buffer.from(value, 'base64');
  return bytes && bytes.length === length ? bytes : undefined;
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}
