import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsString, Length, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { MUTED_FOREVER } from '../../chats/chat-type';
import { MAX_TEXT } from './send-message.request';
import { QUEUE_SCHEMA, SendQueue } from './message.response';

export class ReactionRequest {
  @ApiProperty({ maxLength: 32, example: '👍', description: 'The emoji; an empty string removes this account’s reaction.' })
  @IsString()
  @MaxLength(32)
  // eslint-disable-next-line no-control-regex -- control characters are what it refuses
  @Matches(/^[^\u0000-\u001f\u007f]*$/, { message: 'emoji must not contain control characters' })
  emoji: string;
}

export class EditMessageRequest {
  @ApiProperty({ minLength: 1, maxLength: MAX_TEXT, example: 'See you at 9?', description: 'The new text of the own text message.' })
  @IsString()
  @Length(1, MAX_TEXT)
  text: string;
}

/** A field that is in the body, null included (IsOptional would let null through). */
const given = (_: object, value: unknown) => value !== undefined;

/** PATCH /sessions/{session}/chats/{chat}: the fields given are changed, in WhatsApp, the others are left alone. */
export class ChangeChatRequest {
  @ApiPropertyOptional({ example: true, description: 'Archive (true) or unarchive (false) the chat.' })
  @ValidateIf(given)
  @IsBoolean()
  archived?: boolean;

  @ApiPropertyOptional({ example: true, description: 'Pin (true) or unpin (false) the chat. WhatsApp pins at most 3 chats.' })
  @ValidateIf(given)
  @IsBoolean()
  pinned?: boolean;

  @ApiPropertyOptional({
    type: 'integer',
    format: 'int64',
    nullable: true,
    minimum: 1,
    maximum: MUTED_FOREVER,
    example: 1751198400000,
    description: `Mute the chat until this time (milliseconds since the epoch, in the future); ${MUTED_FOREVER} mutes it forever; null unmutes it.`,
  })
  @IsOptional()
  @IsInt({ message: 'mutedUntil must be an integer (milliseconds since the epoch) or null' })
  @Min(1, { message: 'mutedUntil must be in the future' })
  @Max(MUTED_FOREVER, { message: `mutedUntil must be at most ${MUTED_FOREVER} (forever)` })
  mutedUntil?: number | null;

  @ApiPropertyOptional({
    example: true,
    description:
      "Mark the chat unread (true: List chats shows an `unreadCount` of at least 1) or read (false: WhatsApp's read flag, the unread count becomes 0; it sends no read receipts, `POST .../read` does).",
  })
  @ValidateIf(given)
  @IsBoolean()
  markedUnread?: boolean;
}

export const WRITE_ACTIONS = ['reaction', 'edit', 'delete', 'read', 'chat'] as const;
export const WRITE_STATUSES = ['pending', 'sent', 'failed'] as const;

/**
 * A write to WhatsApp through the session's outbox (a reaction, an edit, a delete for everyone,
 * read receipts, a chat change): answered 202 when queued, and by Get write since (docs/sending.md).
 */
export class WriteResponse {
  @ApiProperty({ type: 'integer', format: 'int64', example: 77120, description: "The write's id: Get write shows its status." })
  id: number;

  @ApiProperty({ enum: WRITE_ACTIONS, example: 'reaction', description: 'What is sent.' })
  action: (typeof WRITE_ACTIONS)[number];

  @ApiProperty({ type: 'integer', format: 'int64', nullable: true, example: 3344, description: 'The chat it concerns; null once that chat is deleted.' })
  chatId: number | null;

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    nullable: true,
    example: 918273,
    description: 'The message it changes; null for read receipts and chat changes.',
  })
  messageId: number | null;

  @ApiProperty({
    enum: WRITE_STATUSES,
    example: 'pending',
    description:
      '`pending`: queued, or handed to WhatsApp and waiting for its server ack (the stored copy is unchanged until then). `sent`: WhatsApp acknowledged it; the stored copy shows it. `failed`: not done, `failureReason` says why (the stored copy is unchanged).',
  })
  status: (typeof WRITE_STATUSES)[number];

  @ApiProperty({
    type: 'string',
    nullable: true,
    example: null,
    description: 'Why the write is `failed`, in words saying what to do (docs/sending.md, "Failure reasons"); null otherwise.',
  })
  failureReason: string | null;

  @ApiProperty({
    ...QUEUE_SCHEMA,
    description:
      "Where a `pending` write stands in the session's send queue (writes are paced with the session's messages); null once handed to WhatsApp, and when sent or failed.",
  } as never)
  queue: SendQueue | null;
}
