import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Chat changes through the outbox (docs/sending.md, "Changing a chat"): `action = 'chat'` sends a
 * chat's archive, pin, mute or read-state change to WhatsApp as app-state patches; like read
 * receipts, it changes no stored message (`message_id` null).
 */
export class OutboxChatChanges1796579388315 implements MigrationInterface {
  name = 'OutboxChatChanges1796579388315';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE message_outbox
        DROP CONSTRAINT message_outbox_action_check,
        DROP CONSTRAINT message_outbox_message_of_action,
        ADD CONSTRAINT message_outbox_action_check CHECK (action IN ('send', 'reaction', 'edit', 'delete', 'read', 'chat')),
        ADD CONSTRAINT message_outbox_message_of_action CHECK ((action IN ('read', 'chat')) = (message_id IS NULL))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM message_outbox WHERE action = 'chat'`);
    await queryRunner.query(`
      ALTER TABLE message_outbox
        DROP CONSTRAINT message_outbox_action_check,
        DROP CONSTRAINT message_outbox_message_of_action,
        ADD CONSTRAINT message_outbox_action_check CHECK (action IN ('send', 'reaction', 'edit', 'delete', 'read')),
        ADD CONSTRAINT message_outbox_message_of_action CHECK ((action = 'read') = (message_id IS NULL))`);
  }
}
