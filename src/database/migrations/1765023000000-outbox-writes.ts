import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Other writes through the outbox (docs/sending.md, "Other writes"): a row's `action` says what it
 * sends: `send` (a message, `message_id` the stored message), `reaction`, `edit`, `delete` (a change
 * to the stored message `message_id`), `read` (read receipts of a chat; no message).
 */
export class OutboxWrites1765023000000 implements MigrationInterface {
  name = 'OutboxWrites1765023000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE message_outbox
        ADD COLUMN action text NOT NULL DEFAULT 'send' CHECK (action IN ('send', 'reaction', 'edit', 'delete', 'read')),
        ALTER COLUMN message_id DROP NOT NULL,
        ADD CONSTRAINT message_outbox_message_of_action CHECK ((action = 'read') = (message_id IS NULL))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM message_outbox WHERE action <> 'send'`);
    await queryRunner.query(`
      ALTER TABLE message_outbox DROP CONSTRAINT message_outbox_message_of_action, DROP COLUMN action, ALTER COLUMN message_id SET NOT NULL`);
  }
}
