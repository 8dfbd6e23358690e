import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { escapeLiteral, PoolClient, QueryResult } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import type { StoredMessage } from '../message.entity';
import type { IdempotencyClaim } from './idempotency';
import type { OutboxContent } from './outgoing-message';
import type { PacingSettings } from './send-pacing';
import type { MediaKind } from '../../config/app-config';
import { ownedSessionCondition } from '../../sessions/session-ownership';

/** A message to accept, everything resolved: the chat's JID, the WhatsApp id, the stored fields. */
export interface AcceptedMessage {
  orgId: string;
  sessionId: string;
  jid: string;
  chatType: 'dm' | 'group';
  waId: string;
  type: 'text' | 'location' | 'contact' | MediaKind;
  body: string | null;
  mentions: string[];
  /** A media message's metadata (the stored message's `media`). */
  media?: { mimetype: string; size: number; fileName?: string };
  /** A media message's staged file, linked to the outbox row in the acceptance transaction. */
  stagingId?: string;
  outbox: OutboxContent;
  idempotency?: IdempotencyClaim;
  expiresInMs: number;
  /** Rank of `pending` (message-type.ts). */
  pendingRank: number;
}

export interface AcceptedRow {
  message: StoredMessage;
  /** Messages of the session before this one in the queue. */
  ahead: number;
  /** The session's pacing state (send-pacing.ts), null before its first send. */
  tat: number | null;
  /** The session's own pacing settings, null for the defaults. */
  pacing: PacingSettings | null;
  outboxId: string;
}

/** An Idempotency-Key of a request to a session, to look up (OutboxRepository.firstAnswersOnOwnedSessions). */
export interface AnswerLookup {
  orgId: string;
  sessionId: string;
  key: string;
}

/** The first answer to an idempotency key, and the hash of the request it answered. */
export interface IdempotentAnswer {
  sessionId: string;
  requestHash: Buffer;
  response: unknown;
}

const UNIQUE_VIOLATION = '23505';

// A key older than 24 h is free again: released (not deleted: the outbox row is the message's history).
const RELEASE_STALE_KEY = `
  UPDATE message_outbox SET idempotency_key = NULL
  WHERE org_id = $2 AND idempotency_key = $3 AND created_at < now() - interval '24 hours'
  RETURNING id`;
// The session's pending rows as the statement sees them (all before any row it inserts), kept by triggers
// (migration 1796600000000): where a row the statement inserts stands in the queue, without counting the queue.
const QUEUE_DEPTH = (session: string) => `COALESCE((SELECT pending FROM outbox_queue_depth WHERE session_id = ${session}), 0)`;
// Where the row just inserted (`outbox`) stands in the session's queue ($1), and the session's pacing.
const QUEUED = `
  outbox.id::text AS outbox_id,
  ${QUEUE_DEPTH('$1')} AS ahead,
  (SELECT tat::text FROM session_send_pacing WHERE session_id = $1) AS tat,
  (SELECT send_pacing FROM sessions WHERE id = $1) AS send_pacing`;
// The stale key's release, joined as a row the insert reads, so it is done before the key is inserted.
const AFTER_RELEASE = `(SELECT count(*) FROM released) AS after_release`;
// A message accepted in one statement: the chat made or touched, the message, the outbox row holding the key (a
// concurrent duplicate waits for this transaction, on the chat's row or the key's unique index, then fails on the
// index), the staged media linked, the queue position and pacing read. The chat's upsert stages the chat events its insert and touch did (the INSERT and
// UPDATE statement triggers both fire); the messages trigger fires at the end of the statement, when the outbox row
// is there, so an own message stages no message.received.
const ACCEPT = `
  WITH released AS (${RELEASE_STALE_KEY}),
  chat AS (
    INSERT INTO chats (session_id, jid, type, last_message_at) VALUES ($1, $4, $5, $6)
    ON CONFLICT (session_id, jid) DO UPDATE SET last_message_at = GREATEST(chats.last_message_at, EXCLUDED.last_message_at), updated_at = now()
    RETURNING id),
  message AS (
    INSERT INTO messages (session_id, chat_id, wa_id, from_me, remote_jid, ts, type, body, quoted_id, mentions, status, media)
    SELECT $1, chat.id, $7, true, $4, $6, $8, $9, $10, $11, $12, $13 FROM chat
    RETURNING *),
  outbox AS (
    INSERT INTO message_outbox (session_id, message_id, org_id, idempotency_key, request_hash, jid, content, expires_at)
    SELECT $1, message.id, $2, $3, $14, $4, $15, now() + $16 * interval '1 millisecond' FROM message, ${AFTER_RELEASE}
    RETURNING id),
  linked AS (
    UPDATE media_staging s SET outbox_id = outbox.id FROM outbox WHERE s.id = $17 AND s.session_id = $1 AND s.outbox_id IS NULL
    RETURNING s.id)
  SELECT m.id::text AS id, m.chat_id::text AS chat_id, m.wa_id, m.from_me, m.remote_jid, m.participant, m.sender_jid, m.push_name, m.ts::text AS ts,
    m.type, m.body, m.quoted_id, m.mentions, m.media, m.status, m.edited_at::text AS edited_at, m.deleted_at::text AS deleted_at, m.reactions,
    (SELECT count(*)::int FROM linked) AS linked, ${QUEUED}
  FROM message m, outbox`;
const STORE_RESPONSE = `UPDATE message_outbox SET response = $2 WHERE id = $1`;
// ACCEPT for a batch of messages (group commit, AcceptBatches): `input` a JSON array of messages (an SQL literal), each
// with its place in the batch (`ord`). Each chat is upserted once (its newest timestamp), in (session, jid) order, so concurrent batches lock
// chats in one order; messages and outbox rows are inserted in batch order, so ids follow it as they would one by one.
// The rows of the statement are not visible to its own subqueries: where a message stands in its session's queue is
// the session's pending rows before the statement (QUEUE_DEPTH) plus those of the batch before it.
const acceptBatch = (input: string) => `
  WITH input AS (
    SELECT * FROM json_to_recordset(${input}::json) AS x(ord int, session_id text, org_id text, key text, request_hash text, jid text,
      chat_type text, ts bigint, wa_id text, type text, body text, quoted_id text, mentions text[], status smallint, media jsonb,
      content jsonb, expires_in_ms bigint)),
  released AS (
    UPDATE message_outbox o SET idempotency_key = NULL FROM input i
    WHERE i.key IS NOT NULL AND o.org_id = i.org_id AND o.idempotency_key = i.key AND o.created_at < now() - interval '24 hours'
    RETURNING o.id),
  chat AS (
    INSERT INTO chats (session_id, jid, type, last_message_at)
    SELECT DISTINCT ON (session_id, jid) session_id, jid, chat_type, ts FROM input ORDER BY session_id, jid, ts DESC
    ON CONFLICT (session_id, jid) DO UPDATE SET last_message_at = GREATEST(chats.last_message_at, EXCLUDED.last_message_at), updated_at = now()
    RETURNING id, session_id, jid),
  message AS (
    INSERT INTO messages (session_id, chat_id, wa_id, from_me, remote_jid, ts, type, body, quoted_id, mentions, status, media)
    SELECT i.session_id, chat.id, i.wa_id, true, i.jid, i.ts, i.type, i.body, i.quoted_id, i.mentions, i.status, i.media
    FROM input i JOIN chat ON chat.session_id = i.session_id AND chat.jid = i.jid ORDER BY i.ord
    RETURNING *),
  outbox AS (
    INSERT INTO message_outbox (session_id, message_id, org_id, idempotency_key, request_hash, jid, content, expires_at)
    SELECT i.session_id, m.id, i.org_id, i.key, decode(i.request_hash, 'hex'), i.jid, i.content, now() + i.expires_in_ms * interval '1 millisecond'
    FROM input i JOIN message m ON m.session_id = i.session_id AND m.wa_id = i.wa_id, ${AFTER_RELEASE} ORDER BY i.ord
    RETURNING id, session_id, message_id),
  queued AS (
    SELECT s.session_id,
      ${QUEUE_DEPTH('s.session_id')} AS pending,
      (SELECT tat::text FROM session_send_pacing WHERE session_id = s.session_id) AS tat,
      (SELECT send_pacing FROM sessions WHERE id = s.session_id) AS send_pacing
    FROM (SELECT DISTINCT session_id FROM input) s)
  SELECT i.ord, m.id::text AS id, m.chat_id::text AS chat_id, m.wa_id, m.from_me, m.remote_jid, m.participant, m.sender_jid, m.push_name,
    m.ts::text AS ts, m.type, m.body, m.quoted_id, m.mentions, m.media, m.status, m.edited_at::text AS edited_at, m.deleted_at::text AS deleted_at,
    m.reactions, o.id::text AS outbox_id, q.pending + (row_number() OVER (PARTITION BY o.session_id ORDER BY o.id))::int - 1 AS ahead, q.tat,
    q.send_pacing
  FROM input i
  JOIN message m ON m.session_id = i.session_id AND m.wa_id = i.wa_id
  JOIN outbox o ON o.session_id = m.session_id AND o.message_id = m.id
  JOIN queued q ON q.session_id = i.session_id`;
// The answers of a batch (`answers`: a JSON array of outbox ids and answers' text, an SQL literal).
const storeResponses = (answers: string) => `
  UPDATE message_outbox o SET response = r.response::json FROM json_to_recordset(${answers}::json) AS r(id bigint, response text) WHERE o.id = r.id`;

const FIRST_ANSWER = `
  SELECT session_id, request_hash, response FROM message_outbox
  WHERE org_id = $1 AND idempotency_key = $2 AND created_at >= now() - interval '24 hours'`;
// Per lookup (org $1, session $2, key $3, in order): owned false when the session is not the org's; else the key's first
// answer, or NULLs when there is none yet. (The key is the org's, whichever session it was used on.)
const FIRST_ANSWERS_ON_OWNED_SESSIONS = `
  SELECT l.ord, s.id IS NOT NULL AS owned, o.session_id, o.request_hash, o.response
  FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS l(org_id, session_id, key, ord)
  LEFT JOIN sessions s ON ${ownedSessionCondition('s', 'l.session_id', 'l.org_id')}
  LEFT JOIN message_outbox o ON s.id IS NOT NULL AND o.org_id = l.org_id AND o.idempotency_key = l.key
    AND o.created_at >= now() - interval '24 hours'
  ORDER BY l.ord`;
const QUOTED = `
  SELECT m.remote_jid, m.wa_id, m.from_me, m.participant, m.body FROM messages m
  WHERE m.session_id = $1 AND m.id = $2 AND m.chat_id = (SELECT id FROM chats WHERE session_id = $1 AND jid = $3) AND m.ts IS NOT NULL`;
const CHAT_ID = `SELECT id::text AS id FROM chats WHERE session_id = $1 AND jid = $2`;
const CHAT_JID = `SELECT jid, type FROM chats WHERE session_id = $1 AND id = $2`;
const ACCEPT_WRITE = `
  WITH released AS (${RELEASE_STALE_KEY}),
  outbox AS (
    INSERT INTO message_outbox (session_id, org_id, idempotency_key, request_hash, message_id, action, jid, content, expires_at)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, now() + $9 * interval '1 millisecond' FROM ${AFTER_RELEASE}
    RETURNING id)
  SELECT ${QUEUED} FROM outbox`;
// The newest incoming messages of a chat, up to its unread count (at least one when marked unread): what read receipts go for.
const UNREAD_KEYS = `
  SELECT m.remote_jid, m.wa_id, m.participant FROM messages m
  WHERE m.session_id = $1 AND m.chat_id = $2 AND NOT m.from_me AND m.ts IS NOT NULL
  ORDER BY m.ts DESC, m.id DESC
  LIMIT LEAST($3::int, 1000)`;
const UNREAD_OF_CHAT = `
  SELECT CASE WHEN marked_unread THEN GREATEST(unread_count, 1) ELSE unread_count END AS unread FROM chats WHERE session_id = $1 AND id = $2`;

// The chat's newest stored message, as WhatsApp's archive and read-state changes name it.
const NEWEST_MESSAGE = `
  SELECT m.remote_jid, m.wa_id, m.from_me, m.participant, m.ts::text AS ts FROM messages m
  WHERE m.session_id = $1 AND m.chat_id = $2 AND m.ts IS NOT NULL AND m.wa_id IS NOT NULL
  ORDER BY m.ts DESC, m.id DESC
  LIMIT 1`;

/** A change to stored messages (or a chat) to send through the outbox. */
export interface AcceptedWrite {
  orgId: string;
  sessionId: string;
  action: 'reaction' | 'edit' | 'delete' | 'read' | 'chat';
  /** The stored message it changes; null for read receipts and chat changes. */
  messageId: string | null;
  jid: string;
  outbox: OutboxContent;
  expiresInMs: number;
  idempotency?: IdempotencyClaim;
}

/** A message to accept and how to answer it from its row. */
export interface ToAccept<T> {
  accepted: AcceptedMessage;
  respond: (row: AcceptedRow) => T;
}

/** A batch's transaction failed and was not committed: its messages can be accepted one by one. */
export class BatchRolledBack extends Error {
  constructor(readonly reason: unknown) {
    super('the batch was rolled back', { cause: reason });
  }
}

/**
 * Whether PostgreSQL answered the COMMIT with an error (it then rolled the transaction back),
 * rather than the connection failing with the COMMIT's outcome unknown (SQLSTATE classes 08,
 * connection exception, and 57, operator intervention, or no SQLSTATE at all).
 */
function refusedByServer(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('08') && !code.startsWith('57');
}

/** A message of a batch as ACCEPT_BATCH reads it (json_to_recordset). */
function batchInput({ accepted }: ToAccept<unknown>, ord: number) {
  return {
    ord,
    session_id: accepted.sessionId,
    org_id: accepted.orgId,
    key: accepted.idempotency?.key ?? null,
    request_hash: accepted.idempotency?.requestHash.toString('hex') ?? null,
    jid: accepted.jid,
    chat_type: accepted.chatType,
    ts: Date.now(),
    wa_id: accepted.waId,
    type: accepted.type,
    body: accepted.body,
    quoted_id: accepted.outbox.quoted?.waId ?? null,
    mentions: accepted.mentions.length > 0 ? accepted.mentions : null,
    status: accepted.pendingRank,
    media: accepted.media ?? null,
    content: accepted.outbox,
    expires_in_ms: accepted.expiresInMs,
  };
}

/** The accepting side of the outbox: a message stored, with its outbox row, in one transaction. */
@Injectable()
export class OutboxRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The JID and type of a stored chat of the session, by its id. */
  async chatById(sessionId: string, chatId: bigint): Promise<{ jid: string; type: string } | undefined> {
    const rows: { jid: string; type: string }[] = await this.dataSource.query(CHAT_JID, [sessionId, chatId.toString()]);
    return rows[0];
  }

  async chatExists(sessionId: string, jid: string): Promise<boolean> {
    return (await this.dataSource.query<unknown[]>(CHAT_ID, [sessionId, jid])).length > 0;
  }

  /** A stored message of the chat `jid`, to quote. */
  async quotable(sessionId: string, messageId: bigint, jid: string) {
    const rows: { remote_jid: string; wa_id: string; from_me: boolean; participant: string | null; body: string | null }[] = await this.dataSource.query(
      QUOTED,
      [sessionId, messageId.toString(), jid],
    );
    return rows[0];
  }

  /**
   * Stores the message (status pending) and its outbox row, and `respond`'s answer for the
   * idempotency key, in one transaction. Undefined when the key is taken (by a request that
   * committed, or commits while this one waits on the unique index): read `firstAnswer` then.
   */
  accept<T>(accepted: AcceptedMessage, respond: (row: AcceptedRow) => T): Promise<T | undefined> {
    return this.idempotent(accepted.idempotency, (manager) => this.insert(manager, accepted), respond, accepted.stagingId !== undefined);
  }

  /**
   * Several messages without staged media, and `respond`'s answers for those with a key, in one
   * transaction of two round trips (BEGIN with the batch's statement; the answers with COMMIT):
   * the group commit's write (accept-batches.ts). A gateway writes its batches one after the
   * other, so each round trip is on the path of every accept: sent as one simple query each, the
   * batch's JSON a literal (escaped by pg), BEGIN, the batch, the answers and COMMIT are two
   * round trips instead of four (docs/performance.md, "Accepts in two round trips"). The literal
   * shows the messages' text in pg_stat_activity's `query`, as statement logs show parameters.
   * Every message must have its own key, or none. Throws BatchRolledBack when nothing was
   * committed (an error before COMMIT, or PostgreSQL refusing it); another error leaves the
   * outcome unknown (the connection lost during COMMIT).
   */
  async acceptTogether(items: readonly ToAccept<unknown>[]): Promise<unknown[]> {
    const runner = this.dataSource.createQueryRunner();
    const client = (await runner.connect()) as PoolClient;
    const rollBack = () => client.query('ROLLBACK').catch(() => undefined);
    try {
      let answers: unknown[];
      let store: string;
      try {
        const [, accepted] = (await client.query(`BEGIN; ${acceptBatch(escapeLiteral(JSON.stringify(items.map(batchInput))))}`)) as unknown as QueryResult<
          StoredMessage & QueuedRow & { ord: number }
        >[];
        const rows = accepted.rows;
        if (rows.length !== items.length) throw new Error(`accepted ${rows.length} of a batch of ${items.length} messages`);
        rows.sort((a, b) => a.ord - b.ord);
        answers = items.map((item, index) => {
          const { ord: _ord, outbox_id, ahead, tat, send_pacing, ...message } = rows[index];
          return item.respond({ message, ...queued({ outbox_id, ahead, tat, send_pacing }) });
        });
        const keyed = items.flatMap((item, index) =>
          item.accepted.idempotency ? [{ id: rows[index].outbox_id, response: JSON.stringify(answers[index]) }] : [],
        );
        store = keyed.length > 0 ? `${storeResponses(escapeLiteral(JSON.stringify(keyed)))}; COMMIT` : 'COMMIT';
      } catch (error) {
        // Nothing was committed; a connection too broken to roll back has lost its transaction anyway.
        await rollBack();
        throw new BatchRolledBack(error);
      }
      try {
        await client.query(store);
      } catch (error) {
        // The answers refused (COMMIT was then not run) or the COMMIT refused: rolled back either way.
        if (refusedByServer(error)) {
          await rollBack();
          throw new BatchRolledBack(error);
        }
        throw error;
      }
      return answers;
    } finally {
      await runner.release();
    }
  }

  /** Stores a write's outbox row, and `respond`'s answer for the idempotency key, as `accept` does. */
  acceptWrite<T>(write: AcceptedWrite, respond: (row: Omit<AcceptedRow, 'message'>) => T): Promise<T | undefined> {
    return this.idempotent(
      write.idempotency,
      async (manager) => {
        const [row]: QueuedRow[] = await manager.query(ACCEPT_WRITE, [
          write.sessionId,
          write.orgId,
          write.idempotency?.key ?? null,
          write.idempotency?.requestHash ?? null,
          write.messageId,
          write.action,
          write.jid,
          JSON.stringify(write.outbox),
          write.expiresInMs,
        ]);
        return queued(row);
      },
      respond,
    );
  }

  /**
   * `insert` (one statement: a key older than 24 h released, the row inserted with the key; a
   * concurrent duplicate waits there for this transaction, then fails on the unique index:
   * undefined) and the answer stored with it, in one transaction. Without a key there is no
   * answer to store: the statement is its own transaction, unless `insert` checks its result
   * after it (`checksAfter`).
   */
  private async idempotent<R extends { outboxId: string }, T>(
    idempotency: IdempotencyClaim | undefined,
    insert: (manager: EntityManager) => Promise<R>,
    respond: (row: R) => T,
    checksAfter = false,
  ): Promise<T | undefined> {
    if (!idempotency && !checksAfter) return respond(await insert(this.dataSource.manager));
    try {
      return await this.dataSource.transaction(async (manager) => {
        const row = await insert(manager);
        const response = respond(row);
        if (idempotency) await manager.query(STORE_RESPONSE, [row.outboxId, JSON.stringify(response)]);
        return response;
      });
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION && (error as { constraint?: string }).constraint === 'message_outbox_idempotency')
        return undefined;
      throw error;
    }
  }

  /** The key and time (ms) of the chat's newest stored message. */
  async newestMessage(
    sessionId: string,
    chatId: bigint,
  ): Promise<{ remote_jid: string; wa_id: string; from_me: boolean; participant: string | null; ts: string } | undefined> {
    const rows: { remote_jid: string; wa_id: string; from_me: boolean; participant: string | null; ts: string }[] = await this.dataSource.query(
      NEWEST_MESSAGE,
      [sessionId, chatId.toString()],
    );
    return rows[0];
  }

  /** The keys of a chat's unread incoming messages, newest first. */
  async unreadKeys(sessionId: string, chatId: bigint): Promise<{ remote_jid: string; wa_id: string; participant: string | null }[]> {
    const [chat]: { unread: number }[] = await this.dataSource.query(UNREAD_OF_CHAT, [sessionId, chatId.toString()]);
    if (!chat || chat.unread === 0) return [];
    return this.dataSource.query(UNREAD_KEYS, [sessionId, chatId.toString(), chat.unread]);
  }

  async firstAnswer(orgId: string, key: string): Promise<IdempotentAnswer | undefined> {
    const rows: AnswerRow[] = await this.dataSource.query(FIRST_ANSWER, [orgId, key]);
    return rows[0] ? answerOf(rows[0]) : undefined;
  }

  /**
   * For each lookup, `firstAnswer`, and whether its org owns the session (undefined when not: the
   * ownership rule in the same query), in one query for all of them.
   */
  async firstAnswersOnOwnedSessions(lookups: readonly AnswerLookup[]): Promise<({ first: IdempotentAnswer | undefined } | undefined)[]> {
    const rows: ((AnswerRow | { session_id: null }) & { owned: boolean })[] = await this.dataSource.query(FIRST_ANSWERS_ON_OWNED_SESSIONS, [
      lookups.map((lookup) => lookup.orgId),
      lookups.map((lookup) => lookup.sessionId),
      lookups.map((lookup) => lookup.key),
    ]);
    return rows.map((row) => (row.owned ? { first: row.session_id === null ? undefined : answerOf(row) } : undefined));
  }

  private async insert(manager: EntityManager, accepted: AcceptedMessage): Promise<AcceptedRow> {
    const [row]: (StoredMessage & QueuedRow & { linked: number })[] = await manager.query(ACCEPT, [
      accepted.sessionId,
      accepted.orgId,
      accepted.idempotency?.key ?? null,
      accepted.jid,
      accepted.chatType,
      Date.now(),
      accepted.waId,
      accepted.type,
      accepted.body,
      accepted.outbox.quoted?.waId ?? null,
      accepted.mentions.length > 0 ? accepted.mentions : null,
      accepted.pendingRank,
      accepted.media ? JSON.stringify(accepted.media) : null,
      accepted.idempotency?.requestHash ?? null,
      JSON.stringify(accepted.outbox),
      accepted.expiresInMs,
      accepted.stagingId ?? null,
    ]);
    const { linked, outbox_id, ahead, tat, send_pacing, ...message } = row;
    if (accepted.stagingId !== undefined && linked !== 1) throw new Error(`staged media ${accepted.stagingId} is gone`);
    return { message, ...queued({ outbox_id, ahead, tat, send_pacing }) };
  }
}

interface AnswerRow {
  session_id: string;
  request_hash: Buffer;
  response: unknown;
}

function answerOf(row: AnswerRow): IdempotentAnswer {
  return { sessionId: row.session_id, requestHash: row.request_hash, response: row.response };
}

/** The queue columns of ACCEPT and ACCEPT_WRITE, as pg returns them. */
interface QueuedRow {
  outbox_id: string;
  ahead: number;
  tat: string | null;
  send_pacing: PacingSettings | null;
}

function queued(row: QueuedRow): Omit<AcceptedRow, 'message'> {
  return { ahead: row.ahead, tat: row.tat ? Number(row.tat) : null, pacing: row.send_pacing, outboxId: row.outbox_id };
}
