import { ApiProperty } from '@nestjs/swagger';
import { MESSAGE_STATUSES, MESSAGE_TYPES, statusOfRank } from '../message-type';
import type { MessageStatus, MessageType } from '../message-type';
import type { StoredMessage } from '../message.entity';

export class MessageKey {
  @ApiProperty({ example: '6281234567890@s.whatsapp.net', description: "The chat's JID as WhatsApp addressed the message." })
  remoteJid: string;

  @ApiProperty({ example: '3EB0C431C26A1916E3C1', description: "WhatsApp's id of the message." })
  id: string;

  @ApiProperty({ example: false, description: 'Whether the message was sent from this WhatsApp account.' })
  fromMe: boolean;

  @ApiProperty({ type: 'string', nullable: true, example: null, description: 'In a group, the JID of the member who sent it.' })
  participant: string | null;
}

/** Media metadata of a message (shown inline in the schema: a nullable $ref does not validate as null). */
export interface MessageMedia {
  mimetype: string | null;
  size: number | null;
  fileName: string | null;
  width: number | null;
  height: number | null;
  /** seconds */
  duration: number | null;
}

const nullableInteger = (description: string, example: number | null, format?: 'int64') => ({
  type: 'integer',
  ...(format ? { format } : {}),
  nullable: true,
  example,
  description,
});
const MEDIA_SCHEMA = {
  type: 'object',
  nullable: true,
  required: ['mimetype', 'size', 'fileName', 'width', 'height', 'duration'],
  properties: {
    mimetype: { type: 'string', nullable: true, example: 'image/jpeg', description: 'Content type, as the media endpoint serves it.' },
    size: nullableInteger('Size in bytes.', 48213, 'int64'),
    fileName: { type: 'string', nullable: true, example: null, description: "A document's file name." },
    width: nullableInteger('Width in pixels (image, video, sticker).', 1280),
    height: nullableInteger('Height in pixels (image, video, sticker).', 960),
    duration: nullableInteger('Duration of audio or video in seconds.', null),
  },
} as const;

export class MessageReaction {
  @ApiProperty({ type: 'string', nullable: true, example: '6281234567891@s.whatsapp.net', description: 'Who reacted; null for this account.' })
  senderJid: string | null;

  @ApiProperty({ example: false, description: 'Whether this account reacted.' })
  fromMe: boolean;

  @ApiProperty({ example: '👍' })
  emoji: string;

  @ApiProperty({ type: 'integer', format: 'int64', example: 1719662460000, description: 'When, in milliseconds since the epoch.' })
  at: number;
}

// Inline, not a $ref: a nullable $ref does not validate as null (as MEDIA_SCHEMA).
export const QUEUE_SCHEMA = {
  type: 'object',
  nullable: true,
  required: ['position', 'expectedSendAt'],
  properties: {
    position: { type: 'integer', example: 0, description: "How many of the session's accepted messages are before this one in its send queue." },
    expectedSendAt: {
      type: 'integer',
      format: 'int64',
      example: 1719662400000,
      description:
        "When the message is expected to be sent (ms since the epoch) if the session stays connected, from the session's pacing (random jitter left out).",
    },
  },
} as const;

export class SendQueue {
  @ApiProperty({ example: 0, description: "How many of the session's accepted messages are before this one in its send queue." })
  position: number;

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    example: 1719662400000,
    description:
      "When the message is expected to be sent (ms since the epoch) if the session stays connected, from the session's pacing (random jitter left out).",
  })
  expectedSendAt: number;
}

export class MessageResponse {
  @ApiProperty({ type: 'integer', format: 'int64', example: 918273, description: "The gateway's own id of the stored message, stable for its life." })
  id: number;

  @ApiProperty({ example: '01J9ZX8K2QHV0M3T6R7P4N5W8C', description: 'The session the message belongs to.' })
  sessionId: string;

  @ApiProperty({ type: 'integer', format: 'int64', example: 3344, description: 'The `id` of its chat, as List chats returns it.' })
  chatId: number;

  @ApiProperty({ type: MessageKey, description: "WhatsApp's key of the message." })
  key: MessageKey;

  @ApiProperty({ type: 'string', nullable: true, example: '6281234567890@s.whatsapp.net', description: 'JID of the sender; null for own messages.' })
  senderJid: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: 'Alice', description: "The sender's push name, where WhatsApp gave it." })
  pushName: string | null;

  @ApiProperty({ type: 'integer', format: 'int64', example: 1719662400000, description: 'When it was sent, in milliseconds since the epoch.' })
  timestamp: number;

  @ApiProperty({ enum: MESSAGE_TYPES, example: 'text' })
  type: MessageType;

  @ApiProperty({
    type: 'string',
    nullable: true,
    example: 'See you at 8?',
    description: 'The text, or the caption of media; after an edit, the edited text; null once deleted.',
  })
  text: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: null, description: "WhatsApp's id of the message this one replies to." })
  quotedMessageId: string | null;

  @ApiProperty({ type: [String], example: [], description: 'JIDs mentioned in the message.' })
  mentions: string[];

  @ApiProperty({
    ...MEDIA_SCHEMA,
    example: null,
    description: 'Media metadata (null when the message has none); download the media from the media endpoint.',
  } as never)
  media: MessageMedia | null;

  @ApiProperty({
    enum: [...MESSAGE_STATUSES, null],
    nullable: true,
    example: 'read',
    description: 'Delivery status of an own message; null for received ones.',
  })
  status: MessageStatus | null;

  @ApiProperty({ type: 'integer', format: 'int64', nullable: true, example: null, description: 'When it was last edited (ms), or null.' })
  editedAt: number | null;

  @ApiProperty({ type: 'integer', format: 'int64', nullable: true, example: null, description: 'When it was deleted for everyone (ms), or null.' })
  deletedAt: number | null;

  @ApiProperty({ type: [MessageReaction], example: [], description: 'One reaction per sender, the latest.' })
  reactions: MessageReaction[];

  @ApiProperty({
    type: 'string',
    nullable: true,
    example: null,
    description: 'Why an own message is `failed`, in words saying what to do (docs/sending.md, "Failure reasons"); null otherwise.',
  })
  failureReason: string | null;

  @ApiProperty({
    ...QUEUE_SCHEMA,
    example: null,
    description:
      "Where an own `pending` message stands in the session's send queue; null for any other message, and for a pending message already handed to WhatsApp (waiting for its server ack).",
  } as never)
  queue: SendQueue | null;
}

const intOrNull = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const textOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A stored message as the API shows it (never the download internals: paths, hashes, the key). */
export function toMessageResponse(row: StoredMessage, sessionId: string): MessageResponse {
  const media = row.media;
  const reactions: MessageReaction[] = [];
  if (row.reactions) {
    for (const [who, [emoji, at]] of Object.entries(row.reactions)) {
      if (emoji) reactions.push({ senderJid: who === 'me' ? null : who, fromMe: who === 'me', emoji, at });
    }
    // Ties by sender in code-unit order, as the event log's SQL orders them (COLLATE "C"): an event's data equals this.
    reactions.sort((a, b) => a.at - b.at || byCodeUnits(a.senderJid ?? '', b.senderJid ?? ''));
  }
  return {
    id: Number(row.id),
    sessionId,
    chatId: Number(row.chat_id),
    key: { remoteJid: row.remote_jid, id: row.wa_id, fromMe: row.from_me, participant: row.participant },
    senderJid: row.sender_jid,
    pushName: row.push_name,
    timestamp: Number(row.ts),
    type: (row.type as MessageType | null) ?? 'unsupported',
    text: row.body,
    quotedMessageId: row.quoted_id,
    mentions: row.mentions ?? [],
    media: media
      ? {
          mimetype: textOrNull(media.mimetype),
          size: intOrNull(media.size),
          fileName: textOrNull(media.fileName),
          width: intOrNull(media.width),
          height: intOrNull(media.height),
          duration: intOrNull(media.duration),
        }
      : null,
    status: row.from_me ? statusOfRank(row.status) : null,
    editedAt: row.edited_at === null ? null : Number(row.edited_at),
    deletedAt: row.deleted_at === null ? null : Number(row.deleted_at),
    reactions,
    failureReason: null,
    queue: null,
  };
}
