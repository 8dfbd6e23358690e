import { Injectable } from '@nestjs/common';
import { rowsToRead } from '../common/pagination/page-query';
import { INT8_AS_TEXT, PageReadPool } from '../database/page-read-pool';
import { ownedSessionCondition } from '../sessions/session-ownership';
import { ChatType } from './chat-type';
import type { ChatResponse } from './dto/chat.response';

/** (sort_pin, sort_last, id): where a chat stands in display order, as a cursor carries it. */
export type DisplayPosition = [sortPin: bigint, sortLast: bigint, id: bigint];

/** One page of chats in display order, and the position after which the next page starts (none: the last page). */
export interface DisplayPage {
  chats: ChatResponse[];
  next?: DisplayPosition;
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
// session (the ownership rule's own SQL condition, from session-ownership.ts) and reads the page: no session row, no result row; an owned session with no chats gives one row of NULLs (the
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
  WHERE ${ownedSessionCondition('sessions', 1, 2)}`;
const FIRST_PAGE = ownedPage('');
const NEXT_PAGE = ownedPage(' AND (sort_pin, sort_last, id) < ($4, $5, $6)');

// int8 columns stay PostgreSQL's text (INT8_AS_TEXT); toChat converts them itself.
const PAGE_TYPES = INT8_AS_TEXT;

/**
 * The SQL and parameters of one display page: the repository runs it, the benchmark EXPLAINs it.
 * `name` makes it a prepared statement on each pooled connection: PostgreSQL parses it, and on the
 * page-read pool plans it, once per connection instead of on every page.
 */
export function displayPageQuery(
  orgId: string,
  sessionId: string,
  count: number,
  after?: readonly bigint[],
): { name: string; text: string; values: unknown[] } {
  return after
    ? { name: 'chats_display_page_after', text: NEXT_PAGE, values: [sessionId, orgId, count, after[0].toString(), after[1].toString(), after[2].toString()] }
    : { name: 'chats_display_page_first', text: FIRST_PAGE, values: [sessionId, orgId, count] };
}

@Injectable()
export class ChatsRepository {
  // Straight to pg, on connections that plan the page statements once (PageReadPool says why):
  // TypeORM's per-query runner and result objects cost more than the query itself.
  constructor(private readonly pool: PageReadPool) {}

  /**
   * Up to `limit` chats of the session in display order, starting after `after` when given; or
   * undefined when `orgId` does not own the session. Reads `rowsToRead(limit)` rows (page-query.ts)
   * and cuts them itself, straight from pg's arrays.
   */
  async findOwnedPageForDisplay(orgId: string, sessionId: string, limit: number, after?: readonly bigint[]): Promise<DisplayPage | undefined> {
    const query = displayPageQuery(orgId, sessionId, rowsToRead(limit), after);
    // Spelled out, not spread: V8 spreads an object into a literal with more fields in ~2 µs here.
    const { rows } = await this.pool.query<RawDisplayChat>({ name: query.name, text: query.text, values: query.values, rowMode: 'array', types: PAGE_TYPES });
    if (rows.length === 0) return undefined;
    if (rows[0][0] === null) return { chats: [] };
    const count = Math.min(rows.length, limit);
    const chats = new Array<ChatResponse>(count);
    for (let i = 0; i < count; i++) chats[i] = toChat(rows[i], sessionId);
    if (rows.length <= limit) return { chats };
    const last = rows[count - 1];
    return { chats, next: [BigInt(last[9]), BigInt(last[10]), BigInt(last[0] as string)] };
  }
}

/** A stored chat as List chats shows it: a chat marked unread counts at least one unread message. */
function toChat(row: RawDisplayChat, sessionId: string): ChatResponse {
  return {
    archived: row[4],
    id: Number(row[0]),
    jid: row[1],
    lastMessageAt: row[6] === null ? null : Number(row[6]),
    mutedUntil: row[5] === null ? null : Number(row[5]),
    name: row[3],
    pinned: row[9] !== '-1',
    sessionId,
    type: row[2],
    unreadCount: row[8] ? Math.max(row[7], 1) : row[7],
  };
}
