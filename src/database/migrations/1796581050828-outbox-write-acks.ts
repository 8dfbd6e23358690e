import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Writes' outcomes (docs/sending.md, "Other writes"): `acked_at` is when WhatsApp's server ack of a
 * write (a reaction, edit, delete for everyone, read receipts) came back; the stored copy changes
 * with it, and Get write shows the write `sent` from then on. A write WhatsApp refused is
 * `state = 'failed'` with its reason, as one that expired.
 */
export class OutboxWriteAcks1796581050828 implements MigrationInterface {
  name = 'OutboxWriteAcks1796581050828';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE message_outbox ADD COLUMN acked_at timestamptz`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE message_outbox DROP COLUMN acked_at`);
  }
}
