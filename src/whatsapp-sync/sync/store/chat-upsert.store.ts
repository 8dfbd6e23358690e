import { Injectable } from '@nestjs/common';
import type { ChatType } from '../../../chats/chat-type';
import { jsonRows, SessionTx } from './session-tx';

/** One row of the bulk chat upsert; see UPSERT_CHATS for what each field does. */
export interface ChatUpsertRow {
  jid: string;
  alt_jid: string | null;
  type: ChatType;
  may_create: boolean;
  subject: string | null;
  activity: number | null;
  snap_at: number | null;
  snap_unread: number | null;
  snap_marked: boolean | null;
  snap_pinned: number | null;
  snap_muted: number | null;
  snap_archived: boolean | null;
  pinned: number | null;
  muted: number | null;
  archived: boolean | null;
  /** Which fields this row sets from live events: pinned (1), muted (2), archived (4), marked unread (8), subject (16). */
  live_bits: number;
  read: boolean;
  marked: boolean;
}

export const LIVE_PINNED = 1;
export const LIVE_MUTED = 2;
export const LIVE_ARCHIVED = 4;
export const LIVE_MARKED = 8;
export const LIVE_SUBJECT = 16;

const CHAT_RECORD = `json_to_recordset($2::json) AS r(
  jid text, alt_jid text, type text, may_create boolean, subject text, activity bigint,
  snap_at bigint, snap_unread integer, snap_marked boolean, snap_pinned bigint, snap_muted bigint, snap_archived boolean,
  pinned bigint, muted bigint, archived boolean, live_bits integer, read boolean, marked boolean)`;

// The proposed row (EXCLUDED) doubles as the description of the change: snapshot_at set means a
// history snapshot; live_fields says which fields live app-state sets; unread_is_read means "read".
const SNAPSHOT_WINS_UNREAD = `(EXCLUDED.snapshot_at IS NOT NULL
  AND (EXCLUDED.unread_as_of, 0, EXCLUDED.unread_base) > (c.unread_as_of, c.unread_is_read::int, c.unread_base))`;
const IS_READ = `(EXCLUDED.snapshot_at IS NULL AND EXCLUDED.unread_is_read)`;
const NEW_AS_OF = `CASE WHEN ${SNAPSHOT_WINS_UNREAD} THEN EXCLUDED.unread_as_of
  WHEN ${IS_READ} THEN GREATEST(c.unread_as_of, c.last_message_at, EXCLUDED.last_message_at)
  ELSE c.unread_as_of END`;
const NEW_BASE = `CASE WHEN ${SNAPSHOT_WINS_UNREAD} THEN EXCLUDED.unread_base WHEN ${IS_READ} THEN 0 ELSE c.unread_base END`;
// A field set by a live event (app-state, a rename) is not overwritten by any history snapshot,
// whichever arrives first; among snapshots, the newer one wins.
const liveOrSnapshot = (
  column: string,
  bit: number,
  value = `EXCLUDED.${column}`,
  snapshotWins = `EXCLUDED.snapshot_at >= COALESCE(c.snapshot_at, -1)`,
) => `CASE
  WHEN EXCLUDED.live_fields & ${bit} <> 0 THEN ${value}
  WHEN EXCLUDED.snapshot_at IS NOT NULL AND c.live_fields & ${bit} = 0 AND ${snapshotWins} THEN ${value}
  ELSE c.${column} END`;
const NEW_SUBJECT = liveOrSnapshot('subject', LIVE_SUBJECT, 'COALESCE(EXCLUDED.subject, c.subject)');

// sync_display_name (migration 1764158400000) spelled out over the row's contacts p and a: a
// function call per inserted row costs a sixth of the statement. A test checks the two agree.
const DISPLAY_NAME_OF_ROW = `CASE WHEN r.type = 'dm'
    THEN COALESCE(p.saved_name, a.saved_name, r.subject, p.push_name, a.push_name, p.verified_name, a.verified_name)
    ELSE COALESCE(r.subject, p.saved_name, a.saved_name, p.push_name, a.push_name, p.verified_name, a.verified_name) END`;

/**
 * The bulk upsert: one statement for a whole batch of chats. A row that does not exist yet is
 * created only when the change may create it and no tombstone of a later deletion covers it.
 * lastMessageAt only moves forward; a history snapshot replaces the unread base only when it is
 * newer than what the base was computed from; live app-state wins over any history snapshot.
 */
const UPSERT_CHATS = `
  INSERT INTO chats AS c (session_id, jid, alt_jid, type, subject, name, last_message_at, pinned_at, muted_until, archived,
    unread_base, unread_as_of, unread_is_read, marked_unread, unread_count, snapshot_at, live_fields)
  SELECT $1, r.jid, r.alt_jid, r.type, r.subject, ${DISPLAY_NAME_OF_ROW}, r.activity,
    CASE WHEN r.snap_at IS NOT NULL THEN r.snap_pinned ELSE r.pinned END,
    CASE WHEN r.snap_at IS NOT NULL THEN r.snap_muted ELSE r.muted END,
    COALESCE(CASE WHEN r.snap_at IS NOT NULL THEN r.snap_archived ELSE r.archived END, false),
    COALESCE(r.snap_unread, 0),
    COALESCE(r.snap_at, CASE WHEN r.read THEN COALESCE(r.activity, 0) ELSE 0 END),
    r.snap_at IS NULL AND r.read,
    COALESCE(r.snap_marked, r.marked),
    COALESCE(r.snap_unread, 0),
    r.snap_at,
    r.live_bits
  FROM ${CHAT_RECORD}
  -- The contacts naming the row: by primary key, never a scan of the session's contacts.
  LEFT JOIN LATERAL (SELECT saved_name, push_name, verified_name FROM sync_contacts WHERE session_id = $1 AND jid = r.jid LIMIT 1) p ON true
  LEFT JOIN LATERAL (SELECT saved_name, push_name, verified_name FROM sync_contacts WHERE session_id = $1 AND jid = r.alt_jid LIMIT 1) a ON true
  -- A row goes in when its change may create the chat and no tombstone of a later deletion covers
  -- it, or else when the chat exists already. In that order: a row that may create (every row of a
  -- history sync) needs no existence check, ON CONFLICT settles it; and the first EXISTS is
  -- computed once per statement, so a session without tombstones skips their lookup per row.
  WHERE (r.may_create AND NOT (EXISTS (SELECT 1 FROM sync_tombstones WHERE session_id = $1) AND EXISTS (
          SELECT 1 FROM sync_tombstones t
          WHERE t.session_id = $1 AND t.jid IN (r.jid, r.alt_jid)
            AND (COALESCE(r.activity, r.snap_at) IS NULL OR COALESCE(r.activity, r.snap_at) <= t.deleted_as_of))))
     -- One index lookup, never a scan of the session's chats. The session id goes in as (SELECT $1):
     -- for a session the statistics have not seen yet (a new session receiving its history) the
     -- planner would estimate its chats at one row, find every index that starts with session_id as
     -- good, and could scan the session's chats for each row (quadratic: 100,000 history chats then
     -- took minutes). Hidden behind an InitPlan, the id is an unknown value, and the lookup is by
     -- (session_id, jid) on the unique index.
     OR EXISTS (SELECT 1 FROM chats e WHERE e.session_id = (SELECT $1::text) AND e.jid = r.jid)
  ON CONFLICT (session_id, jid) DO UPDATE SET
    alt_jid = COALESCE(c.alt_jid, EXCLUDED.alt_jid),
    subject = ${NEW_SUBJECT},
    name = sync_display_name($1, c.jid, COALESCE(c.alt_jid, EXCLUDED.alt_jid), c.type, ${NEW_SUBJECT}),
    last_message_at = GREATEST(c.last_message_at, EXCLUDED.last_message_at),
    pinned_at = ${liveOrSnapshot('pinned_at', LIVE_PINNED)},
    muted_until = ${liveOrSnapshot('muted_until', LIVE_MUTED)},
    archived = ${liveOrSnapshot('archived', LIVE_ARCHIVED)},
    unread_base = ${NEW_BASE},
    unread_as_of = ${NEW_AS_OF},
    unread_is_read = CASE WHEN ${SNAPSHOT_WINS_UNREAD} THEN false WHEN ${IS_READ} THEN true ELSE c.unread_is_read END,
    marked_unread = ${liveOrSnapshot('marked_unread', LIVE_MARKED, 'EXCLUDED.marked_unread', SNAPSHOT_WINS_UNREAD)},
    unread_count = (${NEW_BASE}) + (SELECT count(*) FROM sync_unread_messages u
      WHERE u.session_id = $1 AND u.chat_id = c.id AND u.ts > (${NEW_AS_OF}))::int,
    snapshot_at = GREATEST(c.snapshot_at, EXCLUDED.snapshot_at),
    live_fields = c.live_fields | EXCLUDED.live_fields,
    updated_at = now()`;
const UPSERT_CHATS_RETURNING_IDS = `${UPSERT_CHATS} RETURNING id`;

export const CHAT_UPSERT_STATEMENTS: Record<string, string> = { UPSERT_CHATS, UPSERT_CHATS_RETURNING_IDS };

/** The bulk chat upsert: the way every chat change of a sync batch reaches the stored copy. */
@Injectable()
export class ChatUpsertStore {
  async upsertChats(tx: SessionTx, rows: ChatUpsertRow[]): Promise<void> {
    if (rows.length > 0) await tx.query(UPSERT_CHATS, [jsonRows(rows)]);
  }

  /** upsertChats, returning the ids of the chats written. */
  async upsertChatsReturningIds(tx: SessionTx, rows: ChatUpsertRow[]): Promise<number[]> {
    if (rows.length === 0) return [];
    const result = await tx.query<{ id: string }>(UPSERT_CHATS_RETURNING_IDS, [jsonRows(rows)]);
    return result.map((row) => Number(row.id));
  }
}
