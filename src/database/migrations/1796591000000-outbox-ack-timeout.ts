import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Messages and writes handed to WhatsApp whose server ack has not come (docs/sending.md, "Acks"):
 * the outbox's ack sweep reads them by when they were handed over. A send's ack arrives through
 * the sync (its message's status); the sweep notes it on the row (`acked_at`) the first time it
 * looks, so every row leaves this index once settled.
 */
export class OutboxAckTimeout1796591000000 implements MigrationInterface {
  name = 'OutboxAckTimeout1796591000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX message_outbox_unacked ON message_outbox (finished_at) WHERE state = 'sent' AND acked_at IS NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX message_outbox_unacked`);
  }
}
