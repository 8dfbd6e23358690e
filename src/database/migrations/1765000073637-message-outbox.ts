import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sending (docs/sending.md): the durable outbox and the idempotency keys of Send message.
 *
 * - `message_outbox`: one row per accepted message, written in the transaction that stores the
 *   message (`messages`, status pending) and holds what the holder needs to send it (`jid`,
 *   `content`, the WhatsApp id fixed on the stored message). A holder claims a row by writing its
 *   lease epoch into `claimed_epoch`; a row claimed under an older epoch (its holder died mid-send)
 *   is claimed again by the next holder and sent under the same WhatsApp id.
 * - Idempotency: (org_id, idempotency_key) is unique, so of two concurrent requests with one key
 *   exactly one inserts; `request_hash` tells a replay from another body; `response` is the first
 *   answer. A key older than 24 h is released (set NULL) by the next request that uses it.
 * - `session_send_pacing`: the pacing state of a session (GCRA's theoretical arrival time, ms),
 *   written by the holder as it sends, so the next holder paces on from it.
 */
export class MessageOutbox1765000073637 implements MigrationInterface {
  name = 'MessageOutbox1765000073637';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE message_outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        message_id bigint NOT NULL,
        org_id text NOT NULL,
        idempotency_key text CHECK (length(idempotency_key) BETWEEN 1 AND 255),
        request_hash bytea,
        response jsonb,
        jid text NOT NULL,
        content jsonb NOT NULL,
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
        claimed_epoch bigint,
        attempts integer NOT NULL DEFAULT 0,
        failure_reason text,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX message_outbox_idempotency ON message_outbox (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX message_outbox_queue ON message_outbox (session_id, id) WHERE state = 'pending'`);
    await queryRunner.query(`CREATE INDEX message_outbox_expiry ON message_outbox (expires_at) WHERE state = 'pending'`);
    await queryRunner.query(`CREATE INDEX message_outbox_message ON message_outbox (session_id, message_id)`);
    await queryRunner.query(`
      CREATE TABLE session_send_pacing (
        session_id text PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
        tat bigint NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE session_send_pacing`);
    await queryRunner.query(`DROP TABLE message_outbox`);
  }
}
