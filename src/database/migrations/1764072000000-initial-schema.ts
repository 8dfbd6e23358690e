import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764072000000 implements MigrationInterface {
  name = 'InitialSchema1764072000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE gateway_secrets (
        name text PRIMARY KEY,
        value bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);

    await queryRunner.query(`
      CREATE TABLE sessions (
        id text PRIMARY KEY CHECK (id ~ '^[0-9A-HJKMNP-TV-Z]{26}$'),
        org_id text NOT NULL CHECK (length(org_id) BETWEEN 1 AND 128),
        name text NOT NULL,
        status text NOT NULL DEFAULT 'stopped'
          CHECK (status IN ('stopped', 'connecting', 'qr_required', 'connected', 'logged_out', 'failed')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX sessions_org_id_id ON sessions (org_id, id)`);

    // pinned_at / last_message_at are milliseconds since the epoch. The sort_* columns fold NULL
    // into -1 so that the display order is one plain composite index: pinned first (most recently
    // pinned first), then last activity descending with "never" last, then id descending.
    await queryRunner.query(`
      CREATE TABLE chats (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        jid text NOT NULL,
        type text NOT NULL CHECK (type IN ('dm', 'group', 'broadcast', 'newsletter')),
        name text,
        pinned_at bigint CHECK (pinned_at >= 0),
        archived boolean NOT NULL DEFAULT false,
        muted_until bigint,
        last_message_at bigint CHECK (last_message_at >= 0),
        unread_count integer NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
        marked_unread boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        sort_pin bigint GENERATED ALWAYS AS (COALESCE(pinned_at, -1)) STORED,
        sort_last bigint GENERATED ALWAYS AS (COALESCE(last_message_at, -1)) STORED,
        CONSTRAINT chats_session_jid UNIQUE (session_id, jid)
      )`);
    await queryRunner.query(`CREATE INDEX chats_display_order ON chats (session_id, sort_pin, sort_last, id)`);

    await queryRunner.query(`
      CREATE TABLE api_keys (
        id text PRIMARY KEY,
        org_id text NOT NULL CHECK (length(org_id) BETWEEN 1 AND 128),
        name text,
        secret_hash bytea NOT NULL,
        capabilities text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        last_used_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX api_keys_org_id ON api_keys (org_id, id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE api_keys`);
    await queryRunner.query(`DROP TABLE chats`);
    await queryRunner.query(`DROP TABLE sessions`);
    await queryRunner.query(`DROP TABLE gateway_secrets`);
  }
}
