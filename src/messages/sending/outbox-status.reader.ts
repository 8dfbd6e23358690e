import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { ownedSessionCondition } from '../../sessions/session-ownership';
import type { MessageResponse } from '../dto/message.response';
import type { SendQueue } from '../dto/message.response';
import type { WriteResponse } from '../dto/message-writes.dto';
import { SEND_FAILURES } from './outgoing-message';
import { expectedSendAt, sessionPacing } from './send-pacing';
import type { PacingSettings } from './send-pacing';

// The outbox rows of the given messages, with how many of the session's queued messages are
// before each still queued one (the partial index message_outbox_queue), and the session's pacing.
const OUTBOX_OF_MESSAGES = `
  SELECT o.message_id::text AS message_id, o.state, o.failure_reason,
    CASE WHEN o.state = 'pending' THEN
      (SELECT count(*)::int FROM message_outbox x WHERE x.session_id = $1 AND x.state = 'pending' AND x.id < o.id) END AS ahead,
    (SELECT tat::text FROM session_send_pacing p WHERE p.session_id = $1) AS tat,
    (SELECT send_pacing FROM sessions s WHERE s.id = $1) AS send_pacing
  FROM message_outbox o WHERE o.session_id = $1 AND o.message_id = ANY($2::bigint[]) AND o.action = 'send'`;

// A write (not a message) of a session the org owns, with its queue position while queued.
const WRITE = `
  SELECT o.id::text AS id, o.action, o.message_id::text AS message_id, o.state, o.failure_reason, o.acked_at IS NOT NULL AS acked,
    COALESCE(m.chat_id, c.id)::text AS chat_id,
    CASE WHEN o.state = 'pending' THEN
      (SELECT count(*)::int FROM message_outbox x WHERE x.session_id = o.session_id AND x.state = 'pending' AND x.id < o.id) END AS ahead,
    (SELECT tat::text FROM session_send_pacing p WHERE p.session_id = o.session_id) AS tat,
    s.send_pacing
  FROM message_outbox o
  JOIN sessions s ON ${ownedSessionCondition('s', 2, 1)}
  LEFT JOIN messages m ON m.session_id = o.session_id AND m.id = o.message_id
  LEFT JOIN chats c ON c.session_id = o.session_id AND c.jid = o.jid
  WHERE o.session_id = $2 AND o.id = $3 AND o.action <> 'send'`;

/** A write's outbox row, as the API needs it. */
export interface WriteRow {
  id: string;
  action: WriteResponse['action'];
  message_id: string | null;
  chat_id: string | null;
  state: 'pending' | 'sent' | 'failed';
  failure_reason: string | null;
  acked: boolean;
}

/**
 * The status rule of a write (docs/sending.md): `sent` only once WhatsApp's server ack came (the
 * stored copy changed with it); queued or handed over without an ack yet, `pending` (with its
 * place in the queue while queued); `failed` with the reason the outbox kept.
 */
export function toWriteResponse(row: WriteRow, queue: SendQueue | null): WriteResponse {
  const status = row.state === 'failed' ? 'failed' : row.state === 'sent' && row.acked ? 'sent' : 'pending';
  return {
    id: Number(row.id),
    action: row.action,
    chatId: row.chat_id === null ? null : Number(row.chat_id),
    messageId: row.message_id === null ? null : Number(row.message_id),
    status,
    failureReason: status === 'failed' ? (row.failure_reason ?? SEND_FAILURES.rejected) : null,
    queue: row.state === 'pending' ? queue : null,
  };
}

interface OutboxOfMessage {
  message_id: string;
  state: 'pending' | 'sent' | 'failed';
  failure_reason: string | null;
  ahead: number | null;
  tat: string | null;
  send_pacing: PacingSettings | null;
}

/**
 * What the outbox knows, for the API: about own messages not yet acknowledged by WhatsApp, added
 * to their view (a `pending` message still queued gets its queue position and expected send time,
 * a `failed` one its failure reason; one query for a page, and none when no message needs it);
 * and the status of a write (Get write).
 */
@Injectable()
export class OutboxStatusReader {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  /** A write of a session the org owns, by its id (a canonical session id and an int64 id); undefined otherwise. */
  async write(orgId: string, sessionId: string, writeId: bigint): Promise<WriteResponse | undefined> {
    const rows: (WriteRow & { ahead: number | null; tat: string | null; send_pacing: PacingSettings | null })[] = await this.dataSource.query(WRITE, [
      orgId,
      sessionId,
      writeId.toString(),
    ]);
    const row = rows[0];
    if (!row) return undefined;
    const queue =
      row.ahead === null
        ? null
        : {
            position: row.ahead,
            expectedSendAt: expectedSendAt(
              row.tat === null ? null : Number(row.tat),
              Date.now(),
              row.ahead,
              sessionPacing(row.send_pacing, this.config.sending),
            ),
          };
    return toWriteResponse(row, queue);
  }

  async annotate(sessionId: string, messages: MessageResponse[]): Promise<void> {
    const open = messages.filter((message) => message.key.fromMe && (message.status === 'pending' || message.status === 'failed'));
    if (open.length === 0) return;
    const rows: OutboxOfMessage[] = await this.dataSource.query(OUTBOX_OF_MESSAGES, [sessionId, open.map((message) => String(message.id))]);
    const byMessage = new Map(rows.map((row) => [row.message_id, row]));
    const now = Date.now();
    for (const message of open) {
      const row = byMessage.get(String(message.id));
      if (message.status === 'failed') {
        // No reason in the outbox: WhatsApp refused it (an error ack) after it was handed over.
        message.failureReason = row?.failure_reason ?? SEND_FAILURES.rejected;
      } else if (row?.state === 'pending' && row.ahead !== null) {
        const tat = row.tat === null ? null : Number(row.tat);
        message.queue = { position: row.ahead, expectedSendAt: expectedSendAt(tat, now, row.ahead, sessionPacing(row.send_pacing, this.config.sending)) };
      }
    }
  }
}
