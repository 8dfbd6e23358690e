import { Injectable } from '@nestjs/common';
import { jsonRows, SessionTx } from './session-tx';

export interface ContactRow {
  jid: string;
  saved_name: string | null;
  push_name: string | null;
  verified_name: string | null;
}

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

export const CONTACTS_UNREAD_STATEMENTS: Record<string, string> = { UPSERT_CONTACTS, REFRESH_NAMES, RECORD_UNREAD, REFRESH_UNREAD, PRUNE_READ };

/** What names a chat (contacts, and the display name they give it) and what it has unread. */
@Injectable()
export class ContactsUnreadStore {
  /** Stores contacts' names; returns the ids of the chats named by a contact whose names changed. */
  async upsertContacts(tx: SessionTx, contacts: ContactRow[]): Promise<number[]> {
    if (contacts.length === 0) return [];
    const rows = await tx.query<{ id: string }>(UPSERT_CONTACTS, [jsonRows(contacts)]);
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
    const rows = await tx.query<{ chat_id: string }>(RECORD_UNREAD, [jsonRows(messages)]);
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
}
