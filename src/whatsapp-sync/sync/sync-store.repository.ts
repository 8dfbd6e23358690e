import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { ChatType } from '../../chats/chat-type';

/** The session a sync write is for no longer exists (deleted while its events were queued). */
export class SyncSessionNotFoundError extends Error {
  constructor(readonly sessionId: string) {
    super(`session ${sessionId} not found`);
    this.name = 'SyncSessionNotFoundError';
  }
}

/**
 * One transaction of sync writes for one session. Every statement gets the session id as $1:
 * there is no way to run a query through it that is not scoped to the session.
 */
export class SessionTx {
  constructor(
    readonly sessionId: string,
    private readonly manager: EntityManager,
  ) {}

  query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.manager.query(sql, [this.sessionId, ...params]);
  }
}

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

export interface ContactRow {
  jid: string;
  saved_name: string | null;
  push_name: string | null;
  verified_name: string | null;
}

export interface LidPn {
  lid: string;
  pn: string;
}

export interface HistoryProgress {
  syncType: string | null;
  progress: number | null;
  chats: number;
}

export const LIVE_PINNED = 1;
export const LIVE_MUTED = 2;
export const LIVE_ARCHIVED = 4;
export const LIVE_MARKED = 8;
export const LIVE_SUBJECT = 16;

// Serialize writers of one session across processes (the gateway, a replay from the CLI).
const LOCK_SESSION = `SELECT pg_advisory_xact_lock(hashtextextended('sync:' || $1, 0))`;
const SESSION_EXISTS = `SELECT id FROM sessions WHERE id = $1 FOR KEY SHARE`;

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
const liveOrSnapshot = (column: string, bit: number, value = `EXCLUDED.${column}`, snapshotWins = `EXCLUDED.snapshot_at >= COALESCE(c.snapshot_at, -1)`) => `CASE
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

const FIND_MAPPINGS = `
  SELECT lid, pn FROM sync_lid_mappings WHERE session_id = $1 AND (lid = ANY($2::text[]) OR pn = ANY($2::text[]))`;
const DROP_STALE_MAPPINGS = `
  DELETE FROM sync_lid_mappings m USING json_to_recordset($2::json) AS r(lid text, pn text)
  WHERE m.session_id = $1 AND m.pn = r.pn AND m.lid <> r.lid`;
const STORE_MAPPINGS = `
  INSERT INTO sync_lid_mappings AS m (session_id, lid, pn)
  SELECT $1, r.lid, r.pn FROM json_to_recordset($2::json) AS r(lid text, pn text)
  ON CONFLICT (session_id, lid) DO UPDATE SET pn = EXCLUDED.pn WHERE m.pn <> EXCLUDED.pn`;
const FIND_ROWS_OF_MAPPINGS = `
  SELECT r.lid, r.pn, l.id AS lid_chat, p.id AS pn_chat
  FROM json_to_recordset($2::json) AS r(lid text, pn text)
  LEFT JOIN chats l ON l.session_id = $1 AND l.jid = r.lid
  LEFT JOIN chats p ON p.session_id = $1 AND p.jid = r.pn
  WHERE l.id IS NOT NULL OR (p.id IS NOT NULL AND p.alt_jid IS DISTINCT FROM r.lid)`;
// Two rows for one person: the older row (smaller id) absorbs the newer. The combination is
// symmetric, so the result does not depend on which of the two was created first: a field one
// row has from a live event beats the other row's history value; otherwise the set state wins
// (the later pin or mute end, archived, marked unread; the phone chat's subject).
const mergeField = (bit: number, both: string, column: string) => `CASE
  WHEN k.live_fields & ${bit} <> 0 AND d.live_fields & ${bit} = 0 THEN k.${column}
  WHEN d.live_fields & ${bit} <> 0 AND k.live_fields & ${bit} = 0 THEN d.${column}
  ELSE ${both} END`;
const ABSORB_ROWS = `
  UPDATE chats k SET
    subject = ${mergeField(LIVE_SUBJECT, 'CASE WHEN r.keep_is_pn THEN COALESCE(k.subject, d.subject) ELSE COALESCE(d.subject, k.subject) END', 'subject')},
    last_message_at = GREATEST(k.last_message_at, d.last_message_at),
    pinned_at = ${mergeField(LIVE_PINNED, 'GREATEST(k.pinned_at, d.pinned_at)', 'pinned_at')},
    muted_until = ${mergeField(LIVE_MUTED, 'GREATEST(k.muted_until, d.muted_until)', 'muted_until')},
    archived = ${mergeField(LIVE_ARCHIVED, 'k.archived OR d.archived', 'archived')},
    marked_unread = ${mergeField(LIVE_MARKED, 'k.marked_unread OR d.marked_unread', 'marked_unread')},
    unread_base = CASE WHEN (d.unread_as_of, d.unread_is_read::int, d.unread_base) > (k.unread_as_of, k.unread_is_read::int, k.unread_base) THEN d.unread_base ELSE k.unread_base END,
    unread_is_read = CASE WHEN (d.unread_as_of, d.unread_is_read::int, d.unread_base) > (k.unread_as_of, k.unread_is_read::int, k.unread_base) THEN d.unread_is_read ELSE k.unread_is_read END,
    unread_as_of = GREATEST(k.unread_as_of, d.unread_as_of),
    snapshot_at = GREATEST(k.snapshot_at, d.snapshot_at),
    live_fields = k.live_fields | d.live_fields,
    created_at = LEAST(k.created_at, d.created_at),
    updated_at = now()
  FROM chats d, json_to_recordset($2::json) AS r(keep bigint, drop bigint, keep_is_pn boolean)
  WHERE k.session_id = $1 AND d.session_id = $1 AND k.id = r.keep AND d.id = r.drop`;
const MOVE_UNREAD = `
  INSERT INTO sync_unread_messages (chat_id, message_id, session_id, ts)
  SELECT r.keep, u.message_id, $1, u.ts
  FROM sync_unread_messages u JOIN json_to_recordset($2::json) AS r(keep bigint, drop bigint) ON u.chat_id = r.drop
  WHERE u.session_id = $1
  ON CONFLICT DO NOTHING`;
const DELETE_ABSORBED = `
  DELETE FROM chats c USING json_to_recordset($2::json) AS r(keep bigint, drop bigint)
  WHERE c.session_id = $1 AND c.id = r.drop`;
const RELABEL_ROWS = `
  UPDATE chats c SET jid = r.pn, alt_jid = r.lid, updated_at = now()
  FROM json_to_recordset($2::json) AS r(id bigint, lid text, pn text)
  WHERE c.session_id = $1 AND c.id = r.id
    AND NOT EXISTS (SELECT 1 FROM chats o WHERE o.session_id = $1 AND o.id <> c.id AND (o.jid IN (r.pn, r.lid) OR o.alt_jid IN (r.pn, r.lid)))`;

// Returns the chats the changed contacts name, for refreshNames: found by index lookups (the
// session id behind an InitPlan, as in UPSERT_CHATS), and none looked up while the session has no
// chats (a first history sync stores its contacts before its chats).
const UPSERT_CONTACTS = `
  WITH changed AS (
    INSERT INTO sync_contacts AS s (session_id, jid, saved_name, push_name, verified_name)
    SELECT $1, r.jid, r.saved_name, r.push_name, r.verified_name
    FROM json_to_recordset($2::json) AS r(jid text, saved_name text, push_name text, verified_name text)
    ON CONFLICT (session_id, jid) DO UPDATE SET
      saved_name = COALESCE(EXCLUDED.saved_name, s.saved_name),
      push_name = COALESCE(EXCLUDED.push_name, s.push_name),
      verified_name = COALESCE(EXCLUDED.verified_name, s.verified_name),
      updated_at = now()
    WHERE (COALESCE(EXCLUDED.saved_name, s.saved_name), COALESCE(EXCLUDED.push_name, s.push_name), COALESCE(EXCLUDED.verified_name, s.verified_name))
      IS DISTINCT FROM (s.saved_name, s.push_name, s.verified_name)
    RETURNING jid)
  SELECT n.id FROM changed CROSS JOIN LATERAL (
      SELECT id FROM chats WHERE session_id = (SELECT $1::text) AND jid = changed.jid
      UNION ALL
      SELECT id FROM chats WHERE session_id = (SELECT $1::text) AND alt_jid = changed.jid) n
  WHERE EXISTS (SELECT 1 FROM chats WHERE session_id = $1)`;

const REFRESH_NAMES = `
  UPDATE chats c SET name = n.name, updated_at = now()
  FROM (SELECT id, sync_display_name($1, jid, alt_jid, type, subject) AS name FROM chats
        WHERE session_id = $1 AND id = ANY($2::bigint[])) n
  WHERE c.session_id = $1 AND c.id = n.id AND c.name IS DISTINCT FROM n.name`;

const RECORD_UNREAD = `
  INSERT INTO sync_unread_messages (chat_id, message_id, session_id, ts)
  SELECT c.id, r.id, $1, r.ts
  FROM json_to_recordset($2::json) AS r(jid text, id text, ts bigint)
  JOIN chats c ON c.session_id = $1 AND c.jid = r.jid
  WHERE r.ts > c.unread_as_of
  ON CONFLICT DO NOTHING
  RETURNING chat_id`;
const REFRESH_UNREAD = `
  UPDATE chats c SET unread_count = n.count, updated_at = now()
  FROM (SELECT ch.id, ch.unread_base + (SELECT count(*) FROM sync_unread_messages u
          WHERE u.session_id = $1 AND u.chat_id = ch.id AND u.ts > ch.unread_as_of)::int AS count
        FROM chats ch WHERE ch.session_id = $1 AND ch.id = ANY($2::bigint[])) n
  WHERE c.session_id = $1 AND c.id = n.id AND c.unread_count <> n.count`;
const PRUNE_READ = `
  DELETE FROM sync_unread_messages u USING chats c
  WHERE c.session_id = $1 AND u.session_id = $1 AND u.chat_id = c.id AND c.id = ANY($2::bigint[]) AND u.ts <= c.unread_as_of`;

// A deletion leaves a tombstone for both JIDs of the chat, as of the chat's latest known state:
// an event no newer than that (a late or replayed one) does not bring the chat back.
const DELETE_CHATS = `
  WITH deleted AS (
    DELETE FROM chats c USING json_to_recordset($2::json) AS r(jid text)
    WHERE c.session_id = $1 AND (c.jid = r.jid OR c.alt_jid = r.jid)
    RETURNING c.jid, c.alt_jid, GREATEST(c.last_message_at, c.unread_as_of, c.snapshot_at, 0) AS as_of)
  INSERT INTO sync_tombstones AS t (session_id, jid, deleted_as_of)
  SELECT $1, j.jid, max(d.as_of) FROM deleted d CROSS JOIN LATERAL (VALUES (d.jid), (d.alt_jid)) AS j(jid)
  WHERE j.jid IS NOT NULL GROUP BY j.jid
  ON CONFLICT (session_id, jid) DO UPDATE SET deleted_as_of = GREATEST(t.deleted_as_of, EXCLUDED.deleted_as_of), deleted_at = now()
  RETURNING jid`;

const RECORD_HISTORY = `
  INSERT INTO session_sync_state AS s (session_id, history_status, history_sync_type, history_progress, history_chunks, history_chats, history_updated_at)
  VALUES ($1, CASE WHEN $3::int >= 100 THEN 'complete' ELSE 'running' END, $2, $3, 1, $4, now())
  ON CONFLICT (session_id) DO UPDATE SET
    history_status = CASE WHEN $3::int >= 100 THEN 'complete' WHEN $3::int IS NOT NULL OR s.history_status IN ('none', 'paused') THEN 'running'
      ELSE s.history_status END,
    history_sync_type = COALESCE($2, s.history_sync_type),
    history_progress = COALESCE($3, s.history_progress),
    history_chunks = s.history_chunks + 1,
    history_chats = s.history_chats + $4,
    history_updated_at = now()`;
const RECORD_HISTORY_STATUS = `
  INSERT INTO session_sync_state AS s (session_id, history_status, history_sync_type, history_updated_at)
  VALUES ($1, $2, $3, now())
  ON CONFLICT (session_id) DO UPDATE SET history_status = $2, history_sync_type = COALESCE($3, s.history_sync_type), history_updated_at = now()`;
const RECORD_APPLIED = `
  INSERT INTO session_sync_state AS s (session_id, last_event_at, events_applied) VALUES ($1, now(), $2)
  ON CONFLICT (session_id) DO UPDATE SET last_event_at = now(), events_applied = s.events_applied + $2`;

export interface SyncStateRow {
  last_event_at: Date | null;
  events_applied: string;
  history_status: 'none' | 'running' | 'complete' | 'paused';
  history_sync_type: string | null;
  history_progress: number | null;
  history_chunks: number;
  history_chats: string;
  history_updated_at: Date | null;
}
const SESSION_EXISTS_READ = `SELECT 1 FROM sessions WHERE id = $1`;
const READ_SYNC_STATE = `SELECT * FROM session_sync_state WHERE session_id = $1`;

/** Every SQL statement of the sync store, for the test that checks each is scoped by session. */
export const SYNC_STORE_STATEMENTS: Record<string, string> = {
  LOCK_SESSION,
  SESSION_EXISTS,
  SESSION_EXISTS_READ,
  UPSERT_CHATS,
  UPSERT_CHATS_RETURNING_IDS,
  FIND_MAPPINGS,
  DROP_STALE_MAPPINGS,
  STORE_MAPPINGS,
  FIND_ROWS_OF_MAPPINGS,
  ABSORB_ROWS,
  MOVE_UNREAD,
  DELETE_ABSORBED,
  RELABEL_ROWS,
  UPSERT_CONTACTS,
  REFRESH_NAMES,
  RECORD_UNREAD,
  REFRESH_UNREAD,
  PRUNE_READ,
  DELETE_CHATS,
  RECORD_HISTORY,
  RECORD_HISTORY_STATUS,
  RECORD_APPLIED,
  READ_SYNC_STATE,
};

// Rows go in as one json parameter read by json_to_recordset: json, not jsonb, because jsonb_in
// would first build (and key-sort) a binary copy of the whole batch, a tenth of the chat upsert.
const json = (rows: unknown[]) => JSON.stringify(rows);

/**
 * The stored copy's writes, in intent-named methods. Each runs inside `inSession`, which holds the
 * session's sync lock for the transaction and fails when the session is gone.
 */
@Injectable()
export class SyncStoreRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction that holds the session's sync lock. */
  inSession<T>(sessionId: string, work: (tx: SessionTx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      const tx = new SessionTx(sessionId, manager);
      await tx.query(LOCK_SESSION);
      if ((await tx.query(SESSION_EXISTS)).length === 0) throw new SyncSessionNotFoundError(sessionId);
      return work(tx);
    });
  }

  async sessionExists(sessionId: string): Promise<boolean> {
    return (await this.dataSource.query(SESSION_EXISTS_READ, [sessionId])).length > 0;
  }

  async upsertChats(tx: SessionTx, rows: ChatUpsertRow[]): Promise<void> {
    if (rows.length > 0) await tx.query(UPSERT_CHATS, [json(rows)]);
  }

  /** upsertChats, returning the ids of the chats written. */
  async upsertChatsReturningIds(tx: SessionTx, rows: ChatUpsertRow[]): Promise<number[]> {
    if (rows.length === 0) return [];
    const result = await tx.query<{ id: string }>(UPSERT_CHATS_RETURNING_IDS, [json(rows)]);
    return result.map((row) => Number(row.id));
  }

  /** The LID <-> phone pairs known for any of `jids`. */
  async findMappings(tx: SessionTx, jids: string[]): Promise<LidPn[]> {
    if (jids.length === 0) return [];
    return tx.query<LidPn>(FIND_MAPPINGS, [jids]);
  }

  /**
   * Stores the pairs and makes each person one chat: a `@lid` row and a phone row of the same
   * person are merged (the older id stays), a lone row is relabelled to the phone JID with the LID
   * as its alternate. Returns the ids of the chats that changed.
   */
  async linkLidToPhone(tx: SessionTx, pairs: LidPn[]): Promise<number[]> {
    if (pairs.length === 0) return [];
    await tx.query(DROP_STALE_MAPPINGS, [json(pairs)]);
    await tx.query(STORE_MAPPINGS, [json(pairs)]);
    const rows = await tx.query<{ lid: string; pn: string; lid_chat: string | null; pn_chat: string | null }>(FIND_ROWS_OF_MAPPINGS, [json(pairs)]);
    const merges: { keep: number; drop: number; keep_is_pn: boolean }[] = [];
    const relabel: { id: number; lid: string; pn: string }[] = [];
    for (const row of rows) {
      const lidChat = row.lid_chat === null ? null : Number(row.lid_chat);
      const pnChat = row.pn_chat === null ? null : Number(row.pn_chat);
      if (lidChat !== null && pnChat !== null) {
        const keep = Math.min(lidChat, pnChat);
        merges.push({ keep, drop: Math.max(lidChat, pnChat), keep_is_pn: keep === pnChat });
        relabel.push({ id: keep, lid: row.lid, pn: row.pn });
      } else {
        relabel.push({ id: (lidChat ?? pnChat)!, lid: row.lid, pn: row.pn });
      }
    }
    if (merges.length > 0) {
      await tx.query(ABSORB_ROWS, [json(merges)]);
      await tx.query(MOVE_UNREAD, [json(merges)]);
      await tx.query(DELETE_ABSORBED, [json(merges)]);
    }
    if (relabel.length > 0) await tx.query(RELABEL_ROWS, [json(relabel)]);
    return relabel.map((row) => row.id);
  }

  /** Stores contacts' names; returns the ids of the chats named by a contact whose names changed. */
  async upsertContacts(tx: SessionTx, contacts: ContactRow[]): Promise<number[]> {
    if (contacts.length === 0) return [];
    const rows = await tx.query<{ id: string }>(UPSERT_CONTACTS, [json(contacts)]);
    return [...new Set(rows.map((row) => Number(row.id)))];
  }

  /** Recomputes the display name of the given chats. */
  async refreshNames(tx: SessionTx, chatIds: number[]): Promise<void> {
    if (chatIds.length === 0) return;
    await tx.query(REFRESH_NAMES, [chatIds]);
  }

  /** Records incoming messages as unread (once each, however often delivered); returns the chats that got one. */
  async recordUnreadMessages(tx: SessionTx, messages: { jid: string; id: string; ts: number }[]): Promise<number[]> {
    if (messages.length === 0) return [];
    const rows = await tx.query<{ chat_id: string }>(RECORD_UNREAD, [json(messages)]);
    return [...new Set(rows.map((row) => Number(row.chat_id)))];
  }

  async refreshUnreadCounts(tx: SessionTx, chatIds: number[]): Promise<void> {
    if (chatIds.length === 0) return;
    await tx.query(REFRESH_UNREAD, [chatIds]);
  }

  /** Forgets unread messages the chat's read state already covers. */
  async pruneReadMessages(tx: SessionTx, chatIds: number[]): Promise<void> {
    if (chatIds.length === 0) return;
    await tx.query(PRUNE_READ, [chatIds]);
  }

  async deleteChats(tx: SessionTx, jids: string[]): Promise<number> {
    if (jids.length === 0) return 0;
    return (await tx.query(DELETE_CHATS, [json(jids.map((jid) => ({ jid })))])).length;
  }

  async recordHistoryProgress(tx: SessionTx, progress: HistoryProgress): Promise<void> {
    await tx.query(RECORD_HISTORY, [progress.syncType, progress.progress, progress.chats]);
  }

  async recordHistoryStatus(tx: SessionTx, syncType: string | null, status: 'complete' | 'paused'): Promise<void> {
    await tx.query(RECORD_HISTORY_STATUS, [status, syncType]);
  }

  async recordApplied(tx: SessionTx, events: number): Promise<void> {
    await tx.query(RECORD_APPLIED, [events]);
  }

  async readSyncState(sessionId: string): Promise<SyncStateRow | undefined> {
    const rows: SyncStateRow[] = await this.dataSource.query(READ_SYNC_STATE, [sessionId]);
    return rows[0];
  }
}
