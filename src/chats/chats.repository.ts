import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ChatType } from './chat-type';

/** A chat as the display listing reads it, with the sort key that positions it. */
export interface DisplayChatRow {
  id: number;
  sessionId: string;
  jid: string;
  type: ChatType;
  name: string | null;
  pinned: boolean;
  archived: boolean;
  mutedUntil: number | null;
  lastMessageAt: number | null;
  unreadCount: number;
  markedUnread: boolean;
  /** (sort_pin, sort_last, id): the position of the row in display order. */
  position: [bigint, bigint, bigint];
}

interface RawDisplayChat {
  id: string;
  jid: string;
  type: ChatType;
  name: string | null;
  archived: boolean;
  muted_until: string | null;
  last_message_at: string | null;
  unread_count: number;
  marked_unread: boolean;
  sort_pin: string;
  sort_last: string;
}

// Written plainly because it is the hot path: a range scan of chats_display_order, no sort step.
// The row comparison walks the index backwards from the cursor's position.
const FIRST_PAGE = `
  SELECT id, jid, type, name, archived, muted_until, last_message_at, unread_count, marked_unread, sort_pin, sort_last
  FROM chats
  WHERE session_id = $1
  ORDER BY sort_pin DESC, sort_last DESC, id DESC
  LIMIT $2`;
const NEXT_PAGE = `
  SELECT id, jid, type, name, archived, muted_until, last_message_at, unread_count, marked_unread, sort_pin, sort_last
  FROM chats
  WHERE session_id = $1 AND (sort_pin, sort_last, id) < ($3, $4, $5)
  ORDER BY sort_pin DESC, sort_last DESC, id DESC
  LIMIT $2`;

@Injectable()
export class ChatsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Up to `count` chats of the session in display order, starting after `after` when given. */
  async findPageForDisplay(sessionId: string, count: number, after?: readonly bigint[]): Promise<DisplayChatRow[]> {
    const rows: RawDisplayChat[] = after
      ? await this.dataSource.query(NEXT_PAGE, [sessionId, count, after[0].toString(), after[1].toString(), after[2].toString()])
      : await this.dataSource.query(FIRST_PAGE, [sessionId, count]);
    return rows.map((row) => ({
      id: Number(row.id),
      sessionId,
      jid: row.jid,
      type: row.type,
      name: row.name,
      pinned: row.sort_pin !== '-1',
      archived: row.archived,
      mutedUntil: row.muted_until === null ? null : Number(row.muted_until),
      lastMessageAt: row.last_message_at === null ? null : Number(row.last_message_at),
      unreadCount: row.unread_count,
      markedUnread: row.marked_unread,
      position: [BigInt(row.sort_pin), BigInt(row.sort_last), BigInt(row.id)],
    }));
  }
}
