import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
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
  /** sort_pin and sort_last as PostgreSQL returns int8 (a decimal string): with `id`, the row's position. */
  sortPin: string;
  sortLast: string;
}

/** (sort_pin, sort_last, id): where a row stands in display order, as a cursor carries it. */
export function displayPosition(row: DisplayChatRow): [bigint, bigint, bigint] {
  return [BigInt(row.sortPin), BigInt(row.sortLast), BigInt(row.id)];
}

/** One row as pg returns it in array mode, in the order of PAGE_COLUMNS (bigint columns arrive as strings). */
type RawDisplayChat = [
  id: string | null,
  jid: string,
  type: ChatType,
  name: string | null,
  archived: boolean,
  mutedUntil: string | null,
  lastMessageAt: string | null,
  unreadCount: number,
  markedUnread: boolean,
  sortPin: string,
  sortLast: string,
];

// Written plainly because it is the hot path. One statement checks that the caller's org owns the
// session (the rule of SessionsService.requireOwnedSessionId: keep the two in step) and reads the
// page: no session row, no result row; an owned session with no chats gives one row of NULLs (the
// LEFT JOIN). The page itself is a range scan of chats_display_order walked backwards from the
// cursor's position (the row comparison is an index condition): no sort step.
const PAGE_COLUMNS = 'id, jid, type, name, archived, muted_until, last_message_at, unread_count, marked_unread, sort_pin, sort_last';
const ownedPage = (keyset: string) => `
  SELECT page.*
  FROM sessions
  LEFT JOIN LATERAL (
    SELECT ${PAGE_COLUMNS}
    FROM chats
    WHERE session_id = $1${keyset}
    ORDER BY sort_pin DESC, sort_last DESC, id DESC
    LIMIT $3
  ) AS page ON true
  WHERE sessions.id = $1 AND sessions.org_id = $2`;
const FIRST_PAGE = ownedPage('');
const NEXT_PAGE = ownedPage(' AND (sort_pin, sort_last, id) < ($4, $5, $6)');

/** The SQL and parameters of one display page: the repository runs it, the benchmark EXPLAINs it. */
export function displayPageQuery(orgId: string, sessionId: string, count: number, after?: readonly bigint[]): { text: string; values: unknown[] } {
  return after
    ? { text: NEXT_PAGE, values: [sessionId, orgId, count, after[0].toString(), after[1].toString(), after[2].toString()] }
    : { text: FIRST_PAGE, values: [sessionId, orgId, count] };
}

@Injectable()
export class ChatsRepository {
  private readonly pool: Pool;

  constructor(@InjectDataSource() dataSource: DataSource) {
    // The page query goes straight to the DataSource's own pg pool (same connections, same
    // settings): TypeORM's per-query runner and result objects cost more than the query itself.
    this.pool = (dataSource.driver as PostgresDriver).master as Pool;
  }

  /**
   * Up to `count` chats of the session in display order, starting after `after` when given; or
   * undefined when `orgId` does not own the session.
   */
  async findOwnedPageForDisplay(orgId: string, sessionId: string, count: number, after?: readonly bigint[]): Promise<DisplayChatRow[] | undefined> {
    const query = displayPageQuery(orgId, sessionId, count, after);
    const { rows } = await this.pool.query<RawDisplayChat>({ text: query.text, values: query.values, rowMode: 'array' });
    if (rows.length === 0) return undefined;
    if (rows[0][0] === null) return [];
    return rows.map((row) => ({
      id: Number(row[0]),
      sessionId,
      jid: row[1],
      type: row[2],
      name: row[3],
      pinned: row[9] !== '-1',
      archived: row[4],
      mutedUntil: row[5] === null ? null : Number(row[5]),
      lastMessageAt: row[6] === null ? null : Number(row[6]),
      unreadCount: row[7],
      markedUnread: row[8],
      sortPin: row[9],
      sortLast: row[10],
    }));
  }
}
