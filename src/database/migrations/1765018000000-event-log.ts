import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event log (docs/events.md) and the webhooks that deliver it.
 *
 * Events are written by the database itself, in the transaction of the change that caused them:
 * statement triggers on `chats` stage the ids of the chats whose listed fields a statement actually
 * changed (from its transition tables: what the statement did, not what it was asked to do), a row
 * trigger on `sessions` stages each status change, and a deferred trigger publishes everything the
 * transaction staged when it commits. So every writer (the live sync, a replay from the CLI, a
 * merge of two chats, a deletion) produces its events, and a rolled-back change produces none.
 *
 * Publication holds a transaction-level advisory lock from the moment it numbers the events until
 * the commit is visible, so event ids grow in commit order: a reader that has seen id N will never
 * later find a new event below N (the SSE resume and the webhook dispatcher rely on this). Migration
 * 1796590000000 drops the lock: readers read up to the settled horizon instead (event-log-tail.ts).
 */
export class EventLog1765018000000 implements MigrationInterface {
  name = 'EventLog1765018000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE events (
        id bigint PRIMARY KEY,
        type text NOT NULL,
        org_id text NOT NULL,
        session_id text,
        occurred_at bigint NOT NULL,
        data jsonb NOT NULL
      )`);
    await queryRunner.query(`CREATE SEQUENCE events_id_seq AS bigint OWNED BY events.id`);
    await queryRunner.query(`CREATE INDEX events_org_id_id ON events (org_id, id)`);
    await queryRunner.query(`CREATE INDEX events_occurred_at ON events (occurred_at)`);

    // What a transaction staged, until it commits. Unlogged: a row never outlives its transaction.
    await queryRunner.query(`
      CREATE UNLOGGED TABLE event_staging (
        tx bigint NOT NULL DEFAULT txid_current(),
        seq bigint GENERATED ALWAYS AS IDENTITY,
        chat_id bigint,
        chat_op "char",
        session_id text,
        type text,
        org_id text,
        occurred_at bigint,
        data jsonb
      )`);
    await queryRunner.query(`CREATE INDEX event_staging_tx ON event_staging (tx, seq)`);
    await queryRunner.query(`CREATE UNLOGGED TABLE event_publish_marker (tx bigint PRIMARY KEY)`);

    // A chat as List chats shows it (ChatsRepository's toChat; a test holds the two together).
    await queryRunner.query(`
      CREATE FUNCTION event_chat_json(c chats) RETURNS jsonb LANGUAGE sql STABLE AS $$
        SELECT jsonb_build_object(
          'archived', c.archived, 'id', c.id, 'jid', c.jid, 'lastMessageAt', c.last_message_at,
          'mutedUntil', c.muted_until, 'name', c.name, 'pinned', c.pinned_at IS NOT NULL,
          'sessionId', c.session_id, 'type', c.type,
          'unreadCount', CASE WHEN c.marked_unread THEN GREATEST(c.unread_count, 1) ELSE c.unread_count END)
      $$`);
    // The fields List chats shows, to compare a row before and after a statement.
    await queryRunner.query(`
      CREATE FUNCTION event_chat_listed(c chats) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
        SELECT ARRAY[c.jid, c.type, c.name, c.last_message_at::text, c.muted_until::text, (c.pinned_at IS NOT NULL)::text,
          c.archived::text, (CASE WHEN c.marked_unread THEN GREATEST(c.unread_count, 1) ELSE c.unread_count END)::text]
      $$`);

    await queryRunner.query(`
      CREATE FUNCTION event_mark_for_publication() RETURNS void LANGUAGE sql AS $$
        INSERT INTO event_publish_marker (tx) VALUES (txid_current()) ON CONFLICT DO NOTHING
      $$`);

    await queryRunner.query(`
      CREATE FUNCTION event_stage_chats() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        staged integer;
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO event_staging (chat_id, chat_op, session_id) SELECT n.id, 'i', n.session_id FROM new_rows n;
        ELSIF TG_OP = 'UPDATE' THEN
          INSERT INTO event_staging (chat_id, chat_op, session_id)
          SELECT n.id, 'u', n.session_id FROM new_rows n JOIN old_rows o ON o.id = n.id
          WHERE event_chat_listed(n) IS DISTINCT FROM event_chat_listed(o);
        ELSE
          INSERT INTO event_staging (chat_id, chat_op, session_id, data)
          SELECT o.id, 'd', o.session_id, jsonb_build_object('id', o.id, 'jid', o.jid, 'sessionId', o.session_id, 'type', o.type)
          FROM old_rows o;
        END IF;
        GET DIAGNOSTICS staged = ROW_COUNT;
        IF staged > 0 THEN PERFORM event_mark_for_publication(); END IF;
        RETURN NULL;
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER chats_events_insert AFTER INSERT ON chats REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION event_stage_chats()`,
    );
    await queryRunner.query(
      `CREATE TRIGGER chats_events_update AFTER UPDATE ON chats REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION event_stage_chats()`,
    );
    await queryRunner.query(
      `CREATE TRIGGER chats_events_delete AFTER DELETE ON chats REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION event_stage_chats()`,
    );

    // A session as GET /sessions/{id} shows it (SessionResponse.fromView; a test holds the two together).
    await queryRunner.query(`
      CREATE FUNCTION event_session_json(s sessions) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
      DECLARE
        held text;
        shown text;
        iso constant text := 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"';
      BEGIN
        SELECT owner INTO held FROM session_leases WHERE session_id = s.id AND owner IS NOT NULL AND expires_at > now();
        shown := CASE WHEN held IS NULL AND s.status IN ('connecting', 'qr_required', 'connected')
          THEN CASE WHEN s.desired_state = 'running' THEN 'connecting' ELSE 'stopped' END ELSE s.status END;
        RETURN jsonb_build_object(
          'id', s.id, 'name', s.name, 'metadata', s.metadata, 'status', shown, 'desiredState', s.desired_state,
          'phoneJid', s.phone_jid, 'pushName', s.push_name, 'heldBy', held, 'lastError', s.last_error,
          'lastDisconnect', CASE WHEN s.last_disconnect_reason IS NOT NULL AND s.last_disconnect_at IS NOT NULL THEN jsonb_build_object(
            'reason', s.last_disconnect_reason, 'code', s.last_disconnect_code, 'at', to_char(s.last_disconnect_at AT TIME ZONE 'UTC', iso)) END,
          'reconnectAttempts', s.reconnect_attempts,
          'nextReconnectAt', CASE WHEN held IS NOT NULL THEN to_char(s.next_reconnect_at AT TIME ZONE 'UTC', iso) END,
          'connectedAt', to_char(s.connected_at AT TIME ZONE 'UTC', iso),
          'createdAt', to_char(s.created_at AT TIME ZONE 'UTC', iso),
          'updatedAt', to_char(s.updated_at AT TIME ZONE 'UTC', iso));
      END $$`);
    await queryRunner.query(`
      CREATE FUNCTION event_stage_session_status() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO event_staging (type, org_id, session_id, occurred_at, data)
        VALUES ('session.status', NEW.org_id, NEW.id, (extract(epoch FROM clock_timestamp()) * 1000)::bigint, event_session_json(NEW));
        PERFORM event_mark_for_publication();
        RETURN NULL;
      END $$`);
    await queryRunner.query(`CREATE TRIGGER sessions_events_insert AFTER INSERT ON sessions FOR EACH ROW EXECUTE FUNCTION event_stage_session_status()`);
    await queryRunner.query(
      `CREATE TRIGGER sessions_events_status AFTER UPDATE OF status ON sessions FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION event_stage_session_status()`,
    );

    // At commit: one event per staged ready-made event, and one per chat the transaction changed,
    // with the chat as it is at the end of the transaction (chat.deleted when it is gone; nothing
    // for a chat created and deleted again inside the transaction, or whose session was deleted).
    await queryRunner.query(`
      CREATE FUNCTION event_publish() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        last_id bigint;
        now_ms constant bigint := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtextextended('gateway:event-log', 0));
        WITH staged AS (DELETE FROM event_staging WHERE tx = NEW.tx RETURNING *),
        chat_changes AS (
          SELECT chat_id, min(seq) AS seq, bool_or(chat_op = 'i') AS created,
            (array_agg(data ORDER BY seq DESC) FILTER (WHERE chat_op = 'd'))[1] AS deleted
          FROM staged WHERE chat_id IS NOT NULL GROUP BY chat_id),
        ready AS (
          SELECT seq, type, org_id, session_id, occurred_at, data FROM staged WHERE chat_id IS NULL
          UNION ALL
          SELECT cc.seq, CASE WHEN c.id IS NULL THEN 'chat.deleted' ELSE 'chat.updated' END, s.org_id,
            COALESCE(c.session_id, cc.deleted ->> 'sessionId'), now_ms,
            CASE WHEN c.id IS NULL THEN cc.deleted ELSE event_chat_json(c) END
          FROM chat_changes cc
          LEFT JOIN chats c ON c.id = cc.chat_id
          JOIN sessions s ON s.id = COALESCE(c.session_id, cc.deleted ->> 'sessionId')
          WHERE c.id IS NOT NULL OR NOT cc.created),
        numbered AS (
          INSERT INTO events (id, type, org_id, session_id, occurred_at, data)
          SELECT nextval('events_id_seq'), r.type, r.org_id, r.session_id, r.occurred_at, r.data FROM (SELECT * FROM ready ORDER BY seq) r
          RETURNING id)
        SELECT max(id) INTO last_id FROM numbered;
        DELETE FROM event_publish_marker WHERE tx = NEW.tx;
        IF last_id IS NOT NULL THEN PERFORM pg_notify('gateway_events', last_id::text); END IF;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE CONSTRAINT TRIGGER event_publish AFTER INSERT ON event_publish_marker
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION event_publish()`);

    await queryRunner.query(`
      CREATE TABLE webhooks (
        id text PRIMARY KEY CHECK (id ~ '^[0-9A-HJKMNP-TV-Z]{26}$'),
        org_id text NOT NULL,
        url text NOT NULL,
        event_types text[] NOT NULL CHECK (cardinality(event_types) > 0),
        session_id text REFERENCES sessions (id) ON DELETE CASCADE,
        description text,
        enabled boolean NOT NULL DEFAULT true,
        disabled_reason text,
        secret bytea NOT NULL,
        previous_secret bytea,
        previous_secret_expires_at timestamptz,
        -- Events after this id are delivered (nothing from before the webhook existed).
        starts_after_event bigint NOT NULL,
        failing_since timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX webhooks_org_id_id ON webhooks (org_id, id)`);
    await queryRunner.query(`CREATE INDEX webhooks_enabled_org ON webhooks (org_id) WHERE enabled`);

    await queryRunner.query(`
      CREATE TABLE webhook_deliveries (
        id text PRIMARY KEY,
        webhook_id text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
        event_id bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        replay boolean NOT NULL DEFAULT false,
        response_status integer,
        duration_ms integer,
        error text,
        response_excerpt text,
        next_attempt_at timestamptz,
        last_attempt_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX webhook_deliveries_webhook_id ON webhook_deliveries (webhook_id, id)`);
    await queryRunner.query(`CREATE INDEX webhook_deliveries_event_id ON webhook_deliveries (event_id)`);

    // How far the dispatcher has turned events into deliveries; one row, locked by the replica dispatching.
    await queryRunner.query(`CREATE TABLE webhook_dispatch_position (id integer PRIMARY KEY CHECK (id = 1), event_id bigint NOT NULL)`);
    await queryRunner.query(`INSERT INTO webhook_dispatch_position (id, event_id) VALUES (1, 0)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE webhook_dispatch_position`);
    await queryRunner.query(`DROP TABLE webhook_deliveries`);
    await queryRunner.query(`DROP TABLE webhooks`);
    await queryRunner.query(`DROP TRIGGER sessions_events_status ON sessions`);
    await queryRunner.query(`DROP TRIGGER sessions_events_insert ON sessions`);
    await queryRunner.query(`DROP TRIGGER chats_events_delete ON chats`);
    await queryRunner.query(`DROP TRIGGER chats_events_update ON chats`);
    await queryRunner.query(`DROP TRIGGER chats_events_insert ON chats`);
    await queryRunner.query(`DROP TABLE event_publish_marker`);
    await queryRunner.query(`DROP TABLE event_staging`);
    await queryRunner.query(
      `DROP FUNCTION event_publish(), event_stage_session_status(), event_session_json(sessions), event_stage_chats(), event_mark_for_publication(), event_chat_listed(chats), event_chat_json(chats)`,
    );
    await queryRunner.query(`DROP TABLE events`);
  }
}
