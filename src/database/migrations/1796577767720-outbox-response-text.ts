import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency (docs/sending.md): the first answer to an Idempotency-Key is kept as the text it
 * was sent as (`json`, not `jsonb`, which reorders an object's keys), so a replay answers it
 * byte for byte.
 */
export class OutboxResponseText1796577767720 implements MigrationInterface {
  name = 'OutboxResponseText1796577767720';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE message_outbox ALTER COLUMN response TYPE json USING response::json`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE message_outbox ALTER COLUMN response TYPE jsonb USING response::jsonb`);
  }
}
