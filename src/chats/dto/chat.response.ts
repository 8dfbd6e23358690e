import { ApiProperty } from '@nestjs/swagger';
import { CHAT_TYPES, MUTED_FOREVER } from '../chat-type';
import type { ChatType } from '../chat-type';

export class ChatResponse {
  @ApiProperty({ example: false, description: 'Whether the chat is archived on the phone.' })
  archived: boolean;

  @ApiProperty({ type: 'integer', format: 'int64', example: 3344, description: "The gateway's own id of the stored chat, stable for its life." })
  id: number;

  @ApiProperty({ example: '6281234567890@s.whatsapp.net', description: 'WhatsApp JID as WhatsApp reports it.' })
  jid: string;

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    nullable: true,
    example: 1719662400000,
    description: 'Time of the last message in milliseconds since the epoch, or null when no message is known.',
  })
  lastMessageAt: number | null;

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    nullable: true,
    example: 1751198400000,
    description: `End of the mute in milliseconds since the epoch, or null when not muted. A chat muted forever carries ${MUTED_FOREVER} (9999-12-31T23:59:59Z).`,
  })
  mutedUntil: number | null;

  @ApiProperty({
    type: 'string',
    nullable: true,
    example: 'Alice',
    description: "Display name: the chat's subject/name, else the contact's saved or push name; null when WhatsApp gave none.",
  })
  name: string | null;

  @ApiProperty({ example: false, description: 'Whether the chat is pinned.' })
  pinned: boolean;

  @ApiProperty({ example: '01J9ZX8K2QHV0M3T6R7P4N5W8C', description: 'The session the chat belongs to.' })
  sessionId: string;

  @ApiProperty({
    enum: CHAT_TYPES,
    example: 'dm',
    description: '`dm` for a person, `group`, `broadcast` (broadcast lists) or `newsletter` (channels).',
  })
  type: ChatType;

  @ApiProperty({ type: 'integer', minimum: 0, example: 3, description: 'Unread messages; at least 1 when the chat is marked unread.' })
  unreadCount: number;
}
