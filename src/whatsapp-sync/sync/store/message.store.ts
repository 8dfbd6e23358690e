import { Injectable } from '@nestjs/common';
import type { MediaMetadata } from '../message-ops';
import { jsonRows, SessionTx } from './session-tx';

/** One row of the bulk message upsert (a StoredMessageOp with its chat resolved and its media key encrypted, base64). */
export interface MessageUpsertRow {
  jid: string;
  wa_id: string;
  from_me: boolean;
  remote_jid: string;
  /** Left out (undefined) when absent: json_to_recordset reads NULL. */
  participant?: string;
  sender_jid?: string;
  push_name?: string;
  ts?: number;
  type?: string;
  body?: string;
  quoted_id?: string;
  mentions?: string[];
  media?: MediaMetadata;
  media_key?: string;
  status?: number;
  edited_at?: number;
  deleted_at?: number;
  reactions?: Record<string, [string, number]>;
}

/**
 * How a stored message `k` absorbs what `d` says about the same message: each field merges
 * commutatively and idempotently, so the ops of one message give the same row in any order and
 * any number of times. The earliest timestamp and deletion, the furthest status, the latest edit
 * (its text), the latest reaction per sender; a deleted message keeps no text and no media. Used
 * for ON CONFLICT (d = EXCLUDED) and for two chats merging (d = the absorbed chat's copy).
 */
const DELETED = (k: string, d: string) => `LEAST(${k}.deleted_at, ${d}.deleted_at) IS NOT NULL`;
const mergeMessage = (k: string, d: string) => `
    participant = COALESCE(${k}.participant, ${d}.participant),
    sender_jid = COALESCE(${k}.sender_jid, ${d}.sender_jid),
    push_name = COALESCE(${k}.push_name, ${d}.push_name),
    ts = LEAST(${k}.ts, ${d}.ts),
    type = COALESCE(${k}.type, ${d}.type),
    body = CASE WHEN ${DELETED(k, d)} THEN NULL
      WHEN ${d}.edited_at IS NOT NULL AND (${k}.edited_at IS NULL OR (${d}.edited_at, ${d}.body) > (${k}.edited_at, ${k}.body)) THEN ${d}.body
      WHEN ${k}.edited_at IS NOT NULL THEN ${k}.body
      ELSE COALESCE(${k}.body, ${d}.body) END,
    quoted_id = COALESCE(${k}.quoted_id, ${d}.quoted_id),
    mentions = COALESCE(${k}.mentions, ${d}.mentions),
    media = CASE WHEN ${DELETED(k, d)} THEN NULL ELSE message_media_merge(${k}.media, ${d}.media) END,
    media_key = CASE WHEN ${DELETED(k, d)} THEN NULL ELSE COALESCE(${k}.media_key, ${d}.media_key) END,
    status = GREATEST(${k}.status, ${d}.status),
    edited_at = GREATEST(${k}.edited_at, ${d}.edited_at),
    deleted_at = LEAST(${k}.deleted_at, ${d}.deleted_at),
    reactions = message_reactions_merge(${k}.reactions, ${d}.reactions)`;

const MESSAGE_RECORD = `json_to_recordset($2::json) AS r(
  jid text, wa_id text, from_me boolean, remote_jid text, participant text, sender_jid text, push_name text, ts bigint,
  type text, body text, quoted_id text, mentions text[], media jsonb, media_key text, status smallint, edited_at bigint,
  deleted_at bigint, reactions jsonb)`;

// The rows' chats are looked up once per distinct JID (the session id behind an InitPlan, as in
// the chat upsert: for a session the statistics have not seen, the planner must not think a scan
// of its chats is cheap). A message whose chat is not stored is not kept (a stub in a chat the
// copy does not list, or a late change in a deleted chat).
const UPSERT_MESSAGES = `
  WITH ch AS MATERIALIZED (SELECT id, jid FROM chats WHERE session_id = (SELECT $1::text) AND jid = ANY($3::text[]))
  INSERT INTO messages AS m (session_id, chat_id, wa_id, from_me, remote_jid, participant, sender_jid, push_name, ts, type, body,
    quoted_id, mentions, media, media_key, status, edited_at, deleted_at, reactions)
  SELECT $1, ch.id, r.wa_id, r.from_me, r.remote_jid, r.participant, r.sender_jid, r.push_name, r.ts, r.type,
    CASE WHEN r.deleted_at IS NULL THEN r.body END, r.quoted_id, r.mentions,
    CASE WHEN r.deleted_at IS NULL THEN r.media END, CASE WHEN r.deleted_at IS NULL THEN decode(r.media_key, 'base64') END,
    r.status, r.edited_at, r.deleted_at, r.reactions
  FROM ${MESSAGE_RECORD}
  JOIN ch ON ch.jid = r.jid
  ON CONFLICT (chat_id, wa_id, from_me, session_id) DO UPDATE SET ${mergeMessage('m', 'EXCLUDED')}`;

const REMOVE_MESSAGES = `
  DELETE FROM messages m USING json_to_recordset($2::json) AS r(jid text, wa_id text, from_me boolean), chats c
  WHERE m.session_id = $1 AND c.session_id = $1 AND c.jid = r.jid AND m.chat_id = c.id AND m.wa_id = r.wa_id AND m.from_me = r.from_me`;
const CLEAR_CHATS = `
  DELETE FROM messages m USING chats c
  WHERE m.session_id = $1 AND c.session_id = $1 AND c.jid = ANY($2::text[]) AND m.chat_id = c.id`;

// Two chats of one person merge (LidMergeStore.linkLidToPhone): the absorbed chat's
// messages move to the kept one; a message both hold (delivered under both JIDs) becomes one row.
const MERGE_RECORD = `json_to_recordset($2::json) AS r(keep bigint, drop bigint)`;
const FOLD_DUPLICATES = `
  UPDATE messages k SET ${mergeMessage('k', 'd')}
  FROM messages d, ${MERGE_RECORD}
  WHERE k.session_id = $1 AND d.session_id = $1 AND k.chat_id = r.keep AND d.chat_id = r.drop AND k.wa_id = d.wa_id AND k.from_me = d.from_me`;
const DROP_DUPLICATES = `
  DELETE FROM messages d USING messages k, ${MERGE_RECORD}
  WHERE k.session_id = $1 AND d.session_id = $1 AND k.chat_id = r.keep AND d.chat_id = r.drop AND k.wa_id = d.wa_id AND k.from_me = d.from_me`;
const MOVE_MESSAGES = `
  UPDATE messages m SET chat_id = r.keep
  FROM ${MERGE_RECORD}
  WHERE m.session_id = $1 AND m.chat_id = r.drop`;

/** Where upserted messages come from, as the event log's message trigger reads it. (SessionTx passes the session as $1: unused here.) */
export type MessageOrigin = 'live' | 'history';
const SET_ORIGIN = `SELECT set_config('gateway.message_origin', $2::text, true) WHERE $1::text IS NOT NULL`;

/** Every SQL statement of the message store, for the test that checks each is scoped by session. */
export const MESSAGE_STORE_STATEMENTS: Record<string, string> = {
  UPSERT_MESSAGES,
  REMOVE_MESSAGES,
  CLEAR_CHATS,
  FOLD_DUPLICATES,
  DROP_DUPLICATES,
  MOVE_MESSAGES,
};

/** The messages store's sync writes, in a session's sync transaction (SessionTx: the session is $1). */
@Injectable()
export class MessageStore {
  /**
   * Upserts messages and changes to them, a statement per slice: no key may appear twice in one
   * slice (ON CONFLICT touches a row once per statement), and slices are written in order.
   * `slices` is iterated lazily: each slice is taken (its rows built by the caller) and serialized
   * while PostgreSQL writes the previous one, so the two sides work at once instead of in turns.
   * `origin` 'history': the rows come from a history sync, and the event log's trigger stages no
   * `message.received` for them (migration 1765022000000): the upserts run between two settings of
   * `gateway.message_origin` (transaction-local), so a live upsert costs no extra round trip.
   */
  async upsertMessages(tx: SessionTx, slices: Iterable<MessageUpsertRow[]>, origin: MessageOrigin = 'live'): Promise<void> {
    let writing: Promise<unknown> | undefined;
    for (const rows of slices) {
      if (rows.length === 0) continue;
      const params = [jsonRows(rows), [...new Set(rows.map((row) => row.jid))]];
      if (writing) await writing;
      else if (origin === 'history') await tx.query(SET_ORIGIN, ['history']);
      writing = tx.query(UPSERT_MESSAGES, params);
      // Awaited once the next slice is ready (or at the end); a failure is not unhandled meanwhile.
      writing.catch(() => undefined);
      // One turn of the event loop: the statement goes out (through TypeORM's awaits) before the next slice is built.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (!writing) return;
    await writing;
    if (origin === 'history') await tx.query(SET_ORIGIN, ['live']);
  }

  async removeMessages(tx: SessionTx, keys: { jid: string; wa_id: string; from_me: boolean }[]): Promise<void> {
    if (keys.length > 0) await tx.query(REMOVE_MESSAGES, [jsonRows(keys)]);
  }

  /** Every message of these chats (a chat cleared on the phone). */
  async clearChats(tx: SessionTx, jids: string[]): Promise<void> {
    if (jids.length > 0) await tx.query(CLEAR_CHATS, [jids]);
  }

  /** Moves the messages of absorbed chats to the chats that absorb them, one row per message. */
  async moveToMergedChats(tx: SessionTx, merges: { keep: number; drop: number }[]): Promise<void> {
    if (merges.length === 0) return;
    const param = jsonRows(merges.map(({ keep, drop }) => ({ keep, drop })));
    await tx.query(FOLD_DUPLICATES, [param]);
    await tx.query(DROP_DUPLICATES, [param]);
    await tx.query(MOVE_MESSAGES, [param]);
  }
}
