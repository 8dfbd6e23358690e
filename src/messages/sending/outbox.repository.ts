import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { StoredMessage } from '../message.entity';
import type { IdempotencyClaim } from './idempotency';
import type { OutboxContent } from './outgoing-message';
import type { PacingSettings } from './send-pacing';
import type { MediaKind } from '../../config/app-config';

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
  WHERE org_id = $1 AND idempotency_key = $2 AND created_at < now() - interval '24 hours'`;
const ENSURE_CHAT = `
  INSERT INTO chats (session_id, jid, type) VALUES ($1, $2, $3) ON CONFLICT (session_id, jid) DO NOTHING`;
const CHAT_ID = `SELECT id::text AS id FROM chats WHERE session_id = $1 AND jid = $2`;
const INSERT_OUTBOX = `
  INSERT INTO message_outbox (session_id, message_id, org_id, idempotency_key, request_hash, jid, content, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8 * interval '1 millisecond')
  RETURNING id::text AS id`;
const INSERT_MESSAGE = `
  INSERT INTO messages (session_id, id, chat_id, wa_id, from_me, remote_jid, ts, type, body, quoted_id, mentions, status, media)
  VALUES ($1, $2, $3, $4, true, $5, $6, $7, $8, $9, $10, $11, $12)
  RETURNING id::text AS id, chat_id::text AS chat_id, wa_id, from_me, remote_jid, participant, sender_jid, push_name, ts::text AS ts, type, body,
    quoted_id, mentions, media, status, edited_at::text AS edited_at, deleted_at::text AS deleted_at, reactions`;
const LINK_STAGED_MEDIA = `UPDATE media_staging SET outbox_id = $3 WHERE id = $2 AND session_id = $1 AND outbox_id IS NULL`;
const TOUCH_CHAT = `UPDATE chats SET last_message_at = GREATEST(last_message_at, $3), updated_at = now() WHERE session_id = $1 AND id = $2`;
const QUEUE_AHEAD = `SELECT count(*)::int AS ahead FROM message_outbox WHERE session_id = $1 AND state = 'pending' AND id < $2`;
const PACING = `SELECT (SELECT tat::text FROM session_send_pacing WHERE session_id = $1) AS tat, send_pacing FROM sessions WHERE id = $1`;
const STORE_RESPONSE = `UPDATE message_outbox SET response = $2 WHERE id = $1`;
const FIRST_ANSWER = `
  SELECT session_id, request_hash, response FROM message_outbox
  WHERE org_id = $1 AND idempotency_key = $2 AND created_at >= now() - interval '24 hours'`;
const QUOTED = `
  SELECT m.remote_jid, m.wa_id, m.from_me, m.participant, m.body FROM messages m
  WHERE m.session_id = $1 AND m.id = $2 AND m.chat_id = (SELECT id FROM chats WHERE session_id = $1 AND jid = $3) AND m.ts IS NOT NULL`;
const CHAT_JID = `SELECT jid, type FROM chats WHERE session_id = $1 AND id = $2`;
const INSERT_WRITE = `
  INSERT INTO message_outbox (session_id, message_id, org_id, action, jid, content, expires_at, idempotency_key, request_hash)
  VALUES ($1, $2, $3, $4, $5, $6, now() + $7 * interval '1 millisecond', $8, $9)
  RETURNING id::text AS id`;
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
    return this.idempotent(accepted.orgId, accepted.idempotency, (manager) => this.insert(manager, accepted), respond);
  }

  /** Stores a write's outbox row, and `respond`'s answer for the idempotency key, as `accept` does. */
  acceptWrite<T>(write: AcceptedWrite, respond: (row: Omit<AcceptedRow, 'message'>) => T): Promise<T | undefined> {
    return this.idempotent(
      write.orgId,
      write.idempotency,
      async (manager) => {
        const { sessionId } = write;
        const [{ id: outboxId }]: { id: string }[] = await manager.query(INSERT_WRITE, [
          sessionId,
          write.messageId,
          write.orgId,
          write.action,
          write.jid,
          JSON.stringify(write.outbox),
          write.expiresInMs,
          write.idempotency?.key ?? null,
          write.idempotency?.requestHash ?? null,
        ]);
        return this.queued(manager, sessionId, outboxId);
      },
      respond,
    );
  }

  /**
   * One transaction: a key older than 24 h released, the row inserted with the key (a concurrent
   * duplicate waits here for this transaction, then fails on the unique index: undefined), the
   * answer stored with it.
   */
  private async idempotent<R extends { outboxId: string }, T>(
    orgId: string,
    idempotency: IdempotencyClaim | undefined,
    insert: (manager: EntityManager) => Promise<R>,
    respond: (row: R) => T,
  ): Promise<T | undefined> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        if (idempotency) await manager.query(RELEASE_STALE_KEY, [orgId, idempotency.key]);
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

  /** Where the outbox row stands in the session's queue, and the session's pacing. */
  private async queued(manager: EntityManager, sessionId: string, outboxId: string): Promise<Omit<AcceptedRow, 'message'>> {
    const [{ ahead }]: { ahead: number }[] = await manager.query(QUEUE_AHEAD, [sessionId, outboxId]);
    const [pacing]: { tat: string | null; send_pacing: PacingSettings | null }[] = await manager.query(PACING, [sessionId]);
    return { ahead, tat: pacing?.tat ? Number(pacing.tat) : null, pacing: pacing?.send_pacing ?? null, outboxId };
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
    const rows: { session_id: string; request_hash: Buffer; response: unknown }[] = await this.dataSource.query(FIRST_ANSWER, [orgId, key]);
    return rows[0] ? { sessionId: rows[0].session_id, requestHash: rows[0].request_hash, response: rows[0].response } : undefined;
  }

  private async insert(manager: EntityManager, accepted: AcceptedMessage): Promise<AcceptedRow> {
    const { sessionId } = accepted;
    await manager.query(ENSURE_CHAT, [sessionId, accepted.jid, accepted.chatType]);
    const [{ id: chatId }]: { id: string }[] = await manager.query(CHAT_ID, [sessionId, accepted.jid]);
    const [{ id: messageId }]: { id: string }[] = await manager.query(`SELECT nextval('messages_id_seq')::text AS id`);
    // The key is taken first: a concurrent duplicate waits here for this transaction, then fails on the unique index.
    const [{ id: outboxId }]: { id: string }[] = await manager.query(INSERT_OUTBOX, [
      sessionId,
      messageId,
      accepted.orgId,
      accepted.idempotency?.key ?? null,
      accepted.idempotency?.requestHash ?? null,
      accepted.jid,
      JSON.stringify(accepted.outbox),
      accepted.expiresInMs,
    ]);
    const now = Date.now();
    const quotedId = accepted.outbox.quoted?.waId ?? null;
    const [message]: StoredMessage[] = await manager.query(INSERT_MESSAGE, [
      sessionId,
      messageId,
      chatId,
      accepted.waId,
      accepted.jid,
      now,
      accepted.type,
      accepted.body,
      quotedId,
      accepted.mentions.length > 0 ? accepted.mentions : null,
      accepted.pendingRank,
      accepted.media ? JSON.stringify(accepted.media) : null,
    ]);
    if (accepted.stagingId !== undefined) {
      const [, linked]: [unknown, number] = await manager.query(LINK_STAGED_MEDIA, [sessionId, accepted.stagingId, outboxId]);
      if (linked !== 1) throw new Error(`staged media ${accepted.stagingId} is gone`);
    }
    await manager.query(TOUCH_CHAT, [sessionId, chatId, now]);
    return { message, ...(await this.queued(manager, sessionId, outboxId)) };
  }
}
