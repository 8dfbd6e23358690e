import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the WhatsApp sync needs to keep the stored copy of chats true to WhatsApp (docs/sync.md):
 * - chats.alt_jid: the other JID of the same person (the `@lid` when `jid` is the phone JID), unique
 *   per session so one person is one row;
 * - the raw inputs the displayed values are derived from: the chat's own subject, the unread base
 *   count and the time it is valid for, the history snapshot time, which fields live app-state set;
 * - the contacts' names, the LID <-> phone mappings, the unread incoming messages (so a message
 *   delivered twice is counted once), and tombstones of deleted chats (so a late event does not
 *   bring a deleted chat back);
 * - per session, the last sync time and the history-sync progress.
 * Every table carries session_id and every row is reached through it.
 */
export class ChatSync1764158400000 implements MigrationInterface {
  name = 'ChatSync1764158400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE chats
        ADD COLUMN alt_jid text,
        ADD COLUMN subject text,
        ADD COLUMN unread_base integer NOT NULL DEFAULT 0 CHECK (unread_base >= 0),
        ADD COLUMN unread_as_of bigint NOT NULL DEFAULT 0,
        ADD COLUMN unread_is_read boolean NOT NULL DEFAULT false,
        ADD COLUMN snapshot_at bigint,
        ADD COLUMN live_fields smallint NOT NULL DEFAULT 0,
        ADD CONSTRAINT chats_session_alt_jid UNIQUE (session_id, alt_jid)`);
    // Rows written before the sync existed keep their count as the base it is derived from.
    await queryRunner.query(`UPDATE chats SET unread_base = unread_count WHERE unread_count > 0`);

    await queryRunner.query(`
      CREATE TABLE sync_contacts (
        session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        jid text NOT NULL,
        saved_name text,
        push_name text,
        verified_name text,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (session_id, jid)
      )`);

    // A chat's display name: a group's (broadcast list's, channel's) own subject first; for a person
    // the name saved in the address book first (it follows renames; the history sync's conversation
    // name is a copy of it at sync time), then that conversation name, then the push name.
    await queryRunner.query(`
      CREATE FUNCTION sync_display_name(p_session text, p_jid text, p_alt text, p_type text, p_subject text)
      RETURNS text LANGUAGE sql STABLE AS $$
        SELECT CASE WHEN p_type = 'dm'
          THEN COALESCE(p.saved_name, a.saved_name, p_subject, p.push_name, a.push_name, p.verified_name, a.verified_name)
          ELSE COALESCE(p_subject, p.saved_name, a.saved_name, p.push_name, a.push_name, p.verified_name, a.verified_name) END
        FROM (SELECT 1) AS one
        LEFT JOIN sync_contacts p ON p.session_id = p_session AND p.jid = p_jid
        LEFT JOIN sync_contacts a ON a.session_id = p_session AND a.jid = p_alt
      $$`);

    await queryRunner.query(`
      CREATE TABLE sync_lid_mappings (
        session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        lid text NOT NULL,
        pn text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (session_id, lid),
        CONSTRAINT sync_lid_mappings_session_pn UNIQUE (session_id, pn)
      )`);

    await queryRunner.query(`
      CREATE TABLE sync_unread_messages (
        chat_id bigint NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
        message_id text NOT NULL,
        session_id text NOT NULL,
        ts bigint NOT NULL,
        PRIMARY KEY (chat_id, message_id)
      )`);

    await queryRunner.query(`
      CREATE TABLE sync_tombstones (
        session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        jid text NOT NULL,
        deleted_as_of bigint NOT NULL,
        deleted_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (session_id, jid)
      )`);

    await queryRunner.query(`
      CREATE TABLE session_sync_state (
        session_id text PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
        last_event_at timestamptz,
        events_applied bigint NOT NULL DEFAULT 0,
        history_status text NOT NULL DEFAULT 'none' CHECK (history_status IN ('none', 'running', 'complete', 'paused')),
        history_sync_type text,
        history_progress integer,
        history_chunks integer NOT NULL DEFAULT 0,
        history_chats bigint NOT NULL DEFAULT 0,
        history_updated_at timestamptz
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE session_sync_state`);
    await queryRunner.query(`DROP TABLE sync_tombstones`);
    await queryRunner.query(`DROP TABLE sync_unread_messages`);
    await queryRunner.query(`DROP TABLE sync_lid_mappings`);
    await queryRunner.query(`DROP FUNCTION sync_display_name(text, text, text, text, text)`);
    await queryRunner.query(`DROP TABLE sync_contacts`);
    await queryRunner.query(`
      ALTER TABLE chats
        DROP CONSTRAINT chats_session_alt_jid,
        DROP COLUMN live_fields,
        DROP COLUMN snapshot_at,
        DROP COLUMN unread_is_read,
        DROP COLUMN unread_as_of,
        DROP COLUMN unread_base,
        DROP COLUMN subject,
        DROP COLUMN alt_jid`);
  }
}
