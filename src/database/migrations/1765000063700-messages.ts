import { MigrationInterface, QueryRunner } from 'typeorm';

/** Hash partitions of `messages`: a billion rows across sessions is ~30 million per partition. */
export const MESSAGE_PARTITIONS = 32;

/**
 * The stored copy of every chat's messages (docs/sync.md, "Messages").
 *
 * - Partitioned by hash of the session: every statement names the session, so it touches one
 *   partition and its indexes; a session's messages live together and leave together.
 * - `id` is the gateway's own (int64, from a sequence; identity columns on partitioned tables
 *   need PostgreSQL 17). WhatsApp's key (remote JID, id, fromMe, participant) is kept as it came;
 *   a message is unique per chat by (wa_id, from_me), which is what idempotent ingest upserts on.
 * - `ts` NULL marks a row known so far only through a change (an edit, revoke, reaction or
 *   receipt that arrived before its message): invisible to the API until the message arrives.
 * - The page index covers (chat_id, ts, id) of visible rows only: a page, first or deep, is one
 *   backward range scan of it with no sort; retention walks it forward per chat.
 * - `media` holds the metadata and what a later download needs; the media key is encrypted
 *   (AES-256-GCM, the credential cipher) in `media_key`.
 * - `reactions` is `{ "<sender JID>": ["<emoji, empty when removed>", <sender time ms>] }`.
 * - Deleting a chat deletes its messages (ON DELETE CASCADE).
 */
export class Messages1765000063700 implements MigrationInterface {
  name = 'Messages1765000063700';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE SEQUENCE messages_id_seq AS bigint CACHE 64`);
    await queryRunner.query(`
      CREATE TABLE messages (
        session_id text NOT NULL,
        id bigint NOT NULL DEFAULT nextval('messages_id_seq'),
        chat_id bigint NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
        wa_id text NOT NULL,
        from_me boolean NOT NULL,
        remote_jid text NOT NULL,
        participant text,
        sender_jid text,
        push_name text,
        ts bigint,
        type text CHECK (type IN ('text', 'image', 'video', 'audio', 'voice', 'document', 'sticker', 'location', 'contact', 'poll', 'system', 'unsupported')),
        body text,
        quoted_id text,
        mentions text[],
        media jsonb,
        media_key bytea,
        status smallint,
        edited_at bigint,
        deleted_at bigint,
        reactions jsonb,
        PRIMARY KEY (session_id, id),
        CONSTRAINT messages_chat_key UNIQUE (chat_id, wa_id, from_me, session_id)
      ) PARTITION BY HASH (session_id)`);
    await queryRunner.query(`ALTER SEQUENCE messages_id_seq OWNED BY messages.id`);
    for (let i = 0; i < MESSAGE_PARTITIONS; i++) {
      const name = `messages_p${String(i).padStart(2, '0')}`;
      await queryRunner.query(`CREATE TABLE ${name} PARTITION OF messages FOR VALUES WITH (MODULUS ${MESSAGE_PARTITIONS}, REMAINDER ${i})`);
    }
    await queryRunner.query(`CREATE INDEX messages_chat_page ON messages (chat_id, ts, id) WHERE ts IS NOT NULL`);

    // One value per sender, the latest by the sender's time (ties: the greater emoji), so merging
    // reactions is commutative and idempotent whatever order they arrive in.
    await queryRunner.query(`
      CREATE FUNCTION message_reactions_merge(a jsonb, b jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a ELSE (
          SELECT jsonb_object_agg(k, v) FROM (
            SELECT DISTINCT ON (k) k, v
            FROM (SELECT key AS k, value AS v FROM jsonb_each(a) UNION ALL SELECT key, value FROM jsonb_each(b)) AS x
            ORDER BY k, (v->>1)::bigint DESC, v->>0 DESC) AS y) END
      $$`);

    // The per-org retention setting: messages older than this many days are deleted (NULL: keep all).
    await queryRunner.query(`
      CREATE TABLE org_settings (
        org_id text PRIMARY KEY CHECK (length(org_id) BETWEEN 1 AND 128),
        message_retention_days integer CHECK (message_retention_days BETWEEN 1 AND 36500),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    // The holder of a session downloads media again after asking the phone to re-upload it.
    await queryRunner.query(`ALTER TABLE session_commands DROP CONSTRAINT session_commands_kind_check`);
    await queryRunner.query(
      `ALTER TABLE session_commands ADD CONSTRAINT session_commands_kind_check CHECK (kind IN ('stop', 'logout', 'pairing_code', 'media_reupload'))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM session_commands WHERE kind = 'media_reupload'`);
    await queryRunner.query(`ALTER TABLE session_commands DROP CONSTRAINT session_commands_kind_check`);
    await queryRunner.query(`ALTER TABLE session_commands ADD CONSTRAINT session_commands_kind_check CHECK (kind IN ('stop', 'logout', 'pairing_code'))`);
    await queryRunner.query(`DROP TABLE org_settings`);
    await queryRunner.query(`DROP FUNCTION message_reactions_merge(jsonb, jsonb)`);
    await queryRunner.query(`DROP TABLE messages`);
  }
}
