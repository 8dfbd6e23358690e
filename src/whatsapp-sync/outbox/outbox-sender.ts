import { Injectable, Logger, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { statusRank } from '../../messages/message-type';
import { SEND_FAILURES } from '../../messages/sending/outgoing-message';
import type { OutboxAction, OutboxContent, SendFailure } from '../../messages/sending/outgoing-message';
import { MediaStaging, openStagedMedia } from '../../messages/sending/media-staging';
import { afterSend, bounded, nextSendAllowedAt, sessionPacing } from '../../messages/sending/send-pacing';
import type { PacingSettings } from '../../messages/sending/send-pacing';
import { SessionConnectorError } from '../../sessions/session-connector';
import { ConnectionSupervisor } from '../connection/connection-supervisor';
import type { SessionRunner } from '../connection/session-runner';
import { WriteRefusedError } from '../connection/whatsapp-engine';
import type { SentMessage } from '../connection/whatsapp-engine';
import { LeaseFencing, LeaseLostError } from '../leases/lease-fence';
import { LeaseManager } from '../leases/lease-manager';
import { Batching } from '../../common/async/batching';
import type { LeaseFence } from '../leases/lease-fence';

const MAX_ATTEMPTS = 3;
/** The most messages claimed at once, when the pacing lets that many go now. */
const CLAIM_BATCH = 32;
/** How often a replica deletes staged media no message took (media-staging.ts). */
const SWEEP_UNLINKED_EVERY_MS = 60_000;

// The session's next messages (up to $3): pending, not claimed under this lease epoch (a row
// claimed under an older epoch was left by a holder that died mid-send), in acceptance order.
const CLAIM_NEXT = `
  UPDATE message_outbox o SET claimed_epoch = $2, attempts = o.attempts + 1
  FROM (SELECT id FROM message_outbox
        WHERE session_id = $1 AND state = 'pending' AND (claimed_epoch IS NULL OR claimed_epoch < $2) AND expires_at > now()
        ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) AS next
  WHERE o.id = next.id
  RETURNING o.id::text AS id, o.message_id::text AS message_id, o.action, o.jid, o.content, o.attempts,
    (SELECT wa_id FROM messages m WHERE m.session_id = $1 AND m.id = o.message_id) AS wa_id`;
const PACING_FOR_UPDATE = `SELECT tat::text AS tat FROM session_send_pacing WHERE session_id = $1 FOR UPDATE`;
const PACING_SETTINGS = `SELECT send_pacing FROM sessions WHERE id = $1`;
const SAVE_PACING = `
  INSERT INTO session_send_pacing (session_id, tat) VALUES ($1, $2)
  ON CONFLICT (session_id) DO UPDATE SET tat = EXCLUDED.tat`;
// `sent` here means handed to WhatsApp: the message stays `pending` until WhatsApp's server ack
// comes back through the sync (message-type.ts); a failure moves it to `failed` (only from pending).
// Either way a media message's staged file is deleted with it: handed over, it is WhatsApp's.
// A failed send fails its message too (`rows`: the outbox rows failed, with session_id, message_id
// and action; `rank`: failed's status rank; a status only moves forward, so an ack that came wins).
const failMessagesOf = (rows: string, rank: string) =>
  `UPDATE messages m SET status = GREATEST(m.status, ${rank}) FROM ${rows} r WHERE m.session_id = r.session_id AND m.id = r.message_id AND r.action = 'send'`;
const FINISH_SENT = `
  WITH done AS (
    UPDATE message_outbox SET state = 'sent', finished_at = now(), claimed_epoch = NULL
    WHERE id = ANY($2::bigint[]) AND session_id = $1 AND state = 'pending' RETURNING id)
  DELETE FROM media_staging s USING done WHERE s.outbox_id = done.id`;
const FINISH_FAILED = `
  WITH done AS (
    UPDATE message_outbox SET state = 'failed', failure_reason = $3, finished_at = now(), claimed_epoch = NULL
    WHERE id = $2 AND session_id = $1 AND state = 'pending' RETURNING id, session_id, message_id, action),
  staged AS (DELETE FROM media_staging s USING done WHERE s.outbox_id = done.id)
  ${failMessagesOf('done', '$4')}`;
// A write's server ack (after FINISH_SENT): the write is done, or refused by WhatsApp.
const ACKED = `UPDATE message_outbox SET acked_at = now() WHERE id = $2 AND session_id = $1 AND state = 'sent' AND acked_at IS NULL`;
const REFUSED = `UPDATE message_outbox SET state = 'failed', failure_reason = $3 WHERE id = $2 AND session_id = $1 AND state = 'sent' AND acked_at IS NULL`;
// Read from the pending-queue index, one probe per session.
const SESSIONS_WITH_WORK = `
  SELECT s.id AS session_id FROM unnest($1::text[]) AS s(id)
  WHERE EXISTS (SELECT 1 FROM message_outbox o WHERE o.session_id = s.id AND o.state = 'pending' AND o.expires_at > now())`;
const RELEASE = `UPDATE message_outbox SET claimed_epoch = NULL WHERE id = ANY($2::bigint[]) AND session_id = $1 AND state = 'pending'`;
// The rows each sweep looks at (`row`: the outbox row's alias), matching the partial indexes
// message_outbox_expiry and message_outbox_unacked; the ack timeout is $1 in SWEEPS_DUE and SWEEP_UNACKED.
const pastExpiry = (row: string) => `${row}.state = 'pending' AND ${row}.expires_at <= now()`;
const unackedPastTimeout = (row: string) => `${row}.state = 'sent' AND ${row}.acked_at IS NULL AND ${row}.finished_at < now() - $1 * interval '1 millisecond'`;
// Whether EXPIRE or SWEEP_UNACKED has anything to look at: one probe of each partial index. Asked
// first at every tick because the sweeps themselves are costly to plan (they reach the 32
// partitions of `messages`: 3.1-3.8 ms of PostgreSQL CPU per tick, per replica) and almost
// always find nothing (docs/performance.md, "Outbox sweeps").
const SWEEPS_DUE = `
  SELECT EXISTS (SELECT 1 FROM message_outbox o WHERE ${pastExpiry('o')}) AS expired,
    EXISTS (SELECT 1 FROM message_outbox o WHERE ${unackedPastTimeout('o')}) AS unacked`;
// Any replica: messages past their expiry fail, unless the current holder is sending them right now.
const EXPIRE = `
  WITH expired AS (
    UPDATE message_outbox o SET state = 'failed', failure_reason = $1, finished_at = now(), claimed_epoch = NULL
    WHERE o.id IN (
      SELECT x.id FROM message_outbox x LEFT JOIN session_leases l ON l.session_id = x.session_id
      WHERE ${pastExpiry('x')}
        AND (x.claimed_epoch IS NULL OR l.owner IS NULL OR x.claimed_epoch <> l.epoch)
      ORDER BY x.expires_at LIMIT 500 FOR UPDATE OF x SKIP LOCKED)
    RETURNING o.id, o.session_id, o.message_id, o.action),
  staged AS (DELETE FROM media_staging s USING expired e WHERE s.outbox_id = e.id)
  ${failMessagesOf('expired', '$2')}`;

// Any replica: what was handed to WhatsApp and has had no server ack for SEND_ACK_TIMEOUT_MS. A
// send whose message has moved past pending (its ack came through the sync), or is gone, is settled.
// The rest go back to the queue, to be sent again under the same WhatsApp id (WhatsApp and the
// recipient take an id once: the connection may have dropped after the message left), up to
// MAX_ATTEMPTS; a media message is not (its staged file was deleted once handed over) and fails.
const SWEEP_UNACKED = `
  WITH due AS (
    SELECT o.id, o.action, o.attempts, (o.content -> 'content' ->> 'kind') = 'media' AS media,
      o.action = 'send' AND (m.status IS NULL OR m.status > $2) AS settled
    FROM message_outbox o LEFT JOIN messages m ON m.session_id = o.session_id AND m.id = o.message_id
    WHERE ${unackedPastTimeout('o')}
    ORDER BY o.finished_at LIMIT 500 FOR UPDATE OF o SKIP LOCKED),
  settled AS (UPDATE message_outbox o SET acked_at = now() FROM due WHERE o.id = due.id AND due.settled),
  retried AS (
    UPDATE message_outbox o SET state = 'pending', claimed_epoch = NULL, finished_at = NULL
    FROM due WHERE o.id = due.id AND NOT due.settled AND NOT due.media AND due.attempts < $3),
  failed AS (
    UPDATE message_outbox o SET state = 'failed', failure_reason = CASE WHEN due.media THEN $5 ELSE $4 END, finished_at = now()
    FROM due WHERE o.id = due.id AND NOT due.settled AND (due.media OR due.attempts >= $3)
    RETURNING o.session_id, o.message_id, o.action)
  ${failMessagesOf('failed', '$6')}`;

interface Claimed {
  id: string;
  /** null for a chat's read receipts */
  message_id: string | null;
  action: OutboxAction;
  jid: string;
  content: OutboxContent;
  attempts: number;
  wa_id: string | null;
}

/**
 * The sending side of the outbox (docs/sending.md): every SEND_POLL_MS, each replica fails
 * expired messages and sends, for each connected session it holds, the messages the session's
 * pacing allows, in order, one session's messages one after the other. A message is claimed
 * under the lease fence (its epoch written on the row), sent under its fixed WhatsApp id, then
 * marked handed over (the message's status waits for WhatsApp's server ack, through the sync); a
 * holder that dies in between leaves it to the next holder, which sends the same message again
 * (up to CLAIM_BATCH messages claimed together, when the pacing lets them go at once). One whose
 * server ack does not come within SEND_ACK_TIMEOUT_MS is sent again too (SWEEP_UNACKED).
 */
@Injectable()
export class OutboxSender implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Outbox');
  private timer?: NodeJS.Timeout;
  private readonly draining = new Set<string>();
  private sweeping = false;
  private looking = false;
  private sweptAt = 0;
  private readonly staging: MediaStaging;

  constructor(
    private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly fencing: LeaseFencing,
    private readonly connections: ConnectionSupervisor,
    private readonly leases: LeaseManager,
  ) {
    this.staging = new MediaStaging(dataSource);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), this.config.sending.pollMs);
    this.timer.unref();
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    void this.sweep();
    if (this.looking) return;
    const idle = this.connections.connectedRunners().filter((runner) => !this.draining.has(runner.sessionId));
    if (idle.length === 0) return;
    this.looking = true;
    // One look for all the sessions, then a fenced transaction only for those with something to
    // send: an idle connected session costs nothing per tick (it cost a transaction each, about
    // 0.5 % of a core per session, 2,000 transactions/s at 500 sessions).
    this.withWork(idle.map((runner) => runner.sessionId))
      .then((withWork) => {
        for (const runner of idle) if (withWork.has(runner.sessionId) && !this.draining.has(runner.sessionId)) this.startDrain(runner);
      })
      .catch((error: Error) => this.logger.warn(`looking for messages to send failed: ${error.message}`))
      .finally(() => (this.looking = false));
  }

  private startDrain(runner: SessionRunner): void {
    this.draining.add(runner.sessionId);
    void this.drain(runner)
      .catch((error: Error) => {
        if (!(error instanceof LeaseLostError)) this.logger.warn(`sending messages of session ${runner.sessionId} failed: ${error.message}`);
      })
      .finally(() => this.draining.delete(runner.sessionId));
  }

  /** The sessions among `sessionIds` with a pending, unexpired outbox row. */
  private async withWork(sessionIds: string[]): Promise<Set<string>> {
    const rows: { session_id: string }[] = await this.dataSource.query(SESSIONS_WITH_WORK, [sessionIds]);
    return new Set(rows.map((row) => row.session_id));
  }

  /** Fails expired messages, sends again what WhatsApp never acknowledged, deletes staged files no message took. */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const [due]: { expired: boolean; unacked: boolean }[] = await this.dataSource.query(SWEEPS_DUE, [this.config.sending.ackTimeoutMs]);
      if (due.expired) await this.dataSource.query(EXPIRE, [SEND_FAILURES.expired, statusRank('failed')]);
      if (due.unacked) {
        await this.dataSource.query(SWEEP_UNACKED, [
          this.config.sending.ackTimeoutMs,
          statusRank('pending'),
          MAX_ATTEMPTS,
          SEND_FAILURES.unacknowledged,
          SEND_FAILURES.unacknowledgedMedia,
          statusRank('failed'),
        ]);
      }
      if (Date.now() - this.sweptAt >= SWEEP_UNLINKED_EVERY_MS) {
        this.sweptAt = Date.now();
        await this.staging.sweepUnlinked();
      }
    } catch (error) {
      this.logger.warn(`expiring messages failed: ${(error as Error).message}`);
    } finally {
      this.sweeping = false;
    }
  }

  /**
   * Sends what the pacing allows now, in order, while the session stays connected here: the
   * messages the pacing lets go at once are claimed together, sent one after the other, and
   * marked handed over in batches while the next ones are sent (with pacing off, claiming and
   * marking each message on its own took longer than sending it).
   */
  private async drain(runner: SessionRunner): Promise<void> {
    const fence = runner.fence;
    const handedOver = new Batching<string, void>(async (ids) => {
      await this.fencing.run(fence, (manager) => manager.query(FINISH_SENT, [fence.sessionId, ids]));
      return ids.map(() => ({ ok: true, value: undefined }));
    }, CLAIM_BATCH);
    const marks: Promise<void>[] = [];
    const markSent = (outboxId: string) => {
      const marked = handedOver.submit(outboxId);
      // Awaited below, after the sends; handled now, so a refusal in between is not unhandled.
      marked.catch(() => undefined);
      marks.push(marked);
      return marked;
    };
    try {
      while (runner.connected) {
        const claimed = await this.claim(fence);
        if (claimed.length === 0) return;
        if (!(await this.sendInOrder(runner, claimed, markSent))) return;
      }
    } finally {
      await Promise.all(marks);
    }
  }

  /** Sends the claimed messages in order; false when it stopped early (the rest released, to be sent later). */
  private async sendInOrder(runner: SessionRunner, claimed: Claimed[], markSent: (outboxId: string) => Promise<void>): Promise<boolean> {
    const fence = runner.fence;
    for (const [index, next] of claimed.entries()) {
      const release = () => this.fencing.run(fence, (manager) => manager.query(RELEASE, [fence.sessionId, claimed.slice(index).map((row) => row.id)]));
      if (!runner.connected) {
        await release();
        return false;
      }
      // Marking the last one sent is not awaited, so its fence check is no guard here.
      if (!this.leases.holdsSurely(fence)) throw new LeaseLostError(fence.sessionId);
      // The stored message it sends, or changes, is gone (its chat was cleared or deleted). Read receipts and chat changes name no message.
      const waId = next.content.protocolId ?? next.wa_id;
      const namesMessage = next.action !== 'read' && next.action !== 'chat';
      if ((next.message_id !== null && next.wa_id === null) || (namesMessage && !waId)) {
        await this.finishFailed(fence, next.id, 'deleted');
        continue;
      }
      let sent: SentMessage;
      try {
        const { content } = next.content;
        const openMedia = content.kind === 'media' ? () => openStagedMedia(this.dataSource, content.stagingId) : undefined;
        sent = await runner.sendMessage({ jid: next.jid, waId: waId ?? '', ...next.content, ...(openMedia ? { openMedia } : {}) });
      } catch (error) {
        if (error instanceof WriteRefusedError) {
          // WhatsApp said no: final (the same write would be refused again); the stored copy was not changed.
          this.logger.warn(`WhatsApp refused write ${next.id} (${next.action}) of session ${fence.sessionId}: ${error.code} ${error.message}`);
          await this.finishFailed(fence, next.id, 'changeRefused', ` (WhatsApp error ${error.code})`);
          continue;
        }
        if (error instanceof SessionConnectorError || next.attempts < MAX_ATTEMPTS) {
          this.logger.warn(`sending message ${next.message_id} of session ${fence.sessionId} failed (attempt ${next.attempts}): ${(error as Error).message}`);
          await release();
          return false;
        }
        await this.finishFailed(fence, next.id, 'refused');
        continue;
      }
      const marked = markSent(next.id);
      // A message's status follows its ack through the sync; a write's outcome is kept on its row, once it is marked sent.
      if (next.action !== 'send') {
        marked
          .then(() => sent.ack)
          .then((error) => this.recordAck(fence, next.id, error))
          .catch((error: Error) => {
            if (!(error instanceof LeaseLostError))
              this.logger.warn(`recording the ack of write ${next.id} of session ${fence.sessionId} failed: ${error.message}`);
          });
      }
    }
    return true;
  }

  /** WhatsApp's ack of a write: acknowledged (the stored copy took it), or refused (failed, the stored copy unchanged). */
  private async recordAck(fence: LeaseFence, outboxId: string, error: string | null): Promise<void> {
    await this.fencing.run(fence, (manager) =>
      error === null ? manager.query(ACKED, [fence.sessionId, outboxId]) : manager.query(REFUSED, [fence.sessionId, outboxId, SEND_FAILURES.rejected]),
    );
  }

  /** The next messages, as many as the pacing allows now (at most CLAIM_BATCH): claimed under the fence, in order, the pacing advanced. */
  private claim(fence: LeaseFence): Promise<Claimed[]> {
    return this.fencing.run(fence, async (manager) => {
      const pacing: { tat: string }[] = await manager.query(PACING_FOR_UPDATE, [fence.sessionId]);
      const stored = pacing[0] ? Number(pacing[0].tat) : null;
      const [session]: { send_pacing: PacingSettings | null }[] = await manager.query(PACING_SETTINGS, [fence.sessionId]);
      const settings = sessionPacing(session?.send_pacing ?? null, this.config.sending);
      const now = Date.now();
      // After a change of the session's settings: the old debt cut to the new bound, kept.
      const tat = bounded(stored, now, settings);
      if (tat !== stored) await manager.query(SAVE_PACING, [fence.sessionId, tat]);
      // The pacing state after each send the pacing allows now.
      const after: number[] = [];
      for (let last = tat; after.length < CLAIM_BATCH && nextSendAllowedAt(last, now, settings) <= now;) {
        last = afterSend(last, now, settings, Math.random());
        after.push(last);
      }
      if (after.length === 0) return [];
      const [rows]: [Claimed[], number] = await manager.query(CLAIM_NEXT, [fence.sessionId, fence.epoch, after.length]);
      if (rows.length === 0) return [];
      await manager.query(SAVE_PACING, [fence.sessionId, after[rows.length - 1]]);
      return rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    });
  }

  private async finishFailed(fence: LeaseFence, outboxId: string, failure: SendFailure, detail = ''): Promise<void> {
    await this.fencing.run(fence, (manager) =>
      manager.query(FINISH_FAILED, [fence.sessionId, outboxId, SEND_FAILURES[failure] + detail, statusRank('failed')]),
    );
  }
}
