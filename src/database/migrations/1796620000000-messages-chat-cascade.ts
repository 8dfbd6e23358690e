import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `messages.chat_id` without its foreign key: a chat's deletion still deletes its messages, by a
 * statement trigger on `chats` instead of the key's cascade.
 *
 * The key's check cost every inserted message a trigger call, an index probe of `chats` and a lock
 * of the chat's row, per row; with two of a history sync's chunk transactions at once, both lock
 * the same chats' rows. Alternated on one database, 200,000 messages through the sync: 56,980 to
 * 58,460 messages/s with the key, 58,895 to 64,689 without (docs/performance.md, "History ingest
 * two chunks at a time").
 * No message can name a missing chat without it, because every writer holds the chat:
 *
 * - the sync (store/message.store.ts) reads the chats of its rows in the statement that inserts
 *   them, inside a transaction that holds the session's sync lock (the only writer that deletes a
 *   session's chats takes it exclusively) and a key share of the session's row (its deletion waits);
 * - an accepted message (messages/sending/outbox.repository.ts) upserts its chat in the same
 *   statement, which locks the chat's row until the commit: a deletion waits for it, and the
 *   trigger below, planned and run after that, sees the message.
 *
 * The trigger deletes each session's messages with one statement planned at every run (EXECUTE):
 * the session names one partition, where `messages_chat_key` finds the chats' rows. (The key's
 * cascade probed all 32 partitions for every deleted chat; a plan kept for the connection's life
 * would be made from the tables as they first were: migration 1796610000000.)
 */
export class MessagesChatCascade1796620000000 implements MigrationInterface {
  name = 'MessagesChatCascade1796620000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION messages_delete_with_chats() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        session record;
      BEGIN
        FOR session IN SELECT session_id, array_agg(id) AS chat_ids FROM deleted_chats GROUP BY session_id LOOP
          EXECUTE 'DELETE FROM messages WHERE session_id = $1 AND chat_id = ANY($2)' USING session.session_id, session.chat_ids;
        END LOOP;
        RETURN NULL;
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER chats_delete_messages AFTER DELETE ON chats REFERENCING OLD TABLE AS deleted_chats FOR EACH STATEMENT EXECUTE FUNCTION messages_delete_with_chats()`,
    );
    await queryRunner.query(`ALTER TABLE messages DROP CONSTRAINT messages_chat_id_fkey`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM messages m WHERE NOT EXISTS (SELECT 1 FROM chats c WHERE c.id = m.chat_id)`);
    await queryRunner.query(`ALTER TABLE messages ADD CONSTRAINT messages_chat_id_fkey FOREIGN KEY (chat_id) REFERENCES chats (id) ON DELETE CASCADE`);
    await queryRunner.query(`DROP TRIGGER chats_delete_messages ON chats`);
    await queryRunner.query(`DROP FUNCTION messages_delete_with_chats()`);
  }
}
