import { Injectable } from '@nestjs/common';
import { LIVE_ARCHIVED, LIVE_MARKED, LIVE_MUTED, LIVE_PINNED, LIVE_SUBJECT } from './chat-upsert.store';
import { LidPn, MappedRows, planLidMerge } from './lid-merge';
import { MessageStore } from './message.store';
import { jsonRows, SessionTx } from './session-tx';

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

export const LID_MERGE_STATEMENTS: Record<string, string> = {
  FIND_MAPPINGS,
  DROP_STALE_MAPPINGS,
  STORE_MAPPINGS,
  FIND_ROWS_OF_MAPPINGS,
  ABSORB_ROWS,
  MOVE_UNREAD,
  DELETE_ABSORBED,
  RELABEL_ROWS,
};

/** LID <-> phone pairs: stored, and the two chats of one person made one (planLidMerge decides how). */
@Injectable()
export class LidMergeStore {
  constructor(private readonly messages: MessageStore) {}

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
    await tx.query(DROP_STALE_MAPPINGS, [jsonRows(pairs)]);
    await tx.query(STORE_MAPPINGS, [jsonRows(pairs)]);
    const { merges, relabel } = planLidMerge(await tx.query<MappedRows>(FIND_ROWS_OF_MAPPINGS, [jsonRows(pairs)]));
    if (merges.length > 0) {
      await tx.query(ABSORB_ROWS, [jsonRows(merges)]);
      await tx.query(MOVE_UNREAD, [jsonRows(merges)]);
      await this.messages.moveToMergedChats(tx, merges);
      await tx.query(DELETE_ABSORBED, [jsonRows(merges)]);
    }
    if (relabel.length > 0) await tx.query(RELABEL_ROWS, [jsonRows(relabel)]);
    return relabel.map((row) => row.id);
  }
}
