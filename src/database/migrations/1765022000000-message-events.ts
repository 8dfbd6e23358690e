import { MigrationInterface, QueryRunner } from 'typeorm';

/** SEND_FAILURES.rejected as of this migration (a test compares an event's failureReason with GET's). */
const SQL_REJECTED = `'WhatsApp refused the message (an error acknowledgement); check that the recipient is on WhatsApp and that the account may message them, then send it again'`;

/**
 * `message.received` and `message.updated` in the event log (docs/events.md), written by the
 * database in the transaction of the change, as the chat events are (migration 1765018000000).
 *
 * `messages` is hash-partitioned. PostgreSQL (15) refuses row triggers with transition tables on a
 * partitioned table, but allows statement triggers with transition tables on the partitioned
 * parent (they fire once per statement and their transition tables hold the rows of every
 * partition the statement touched; INSERT ... ON CONFLICT DO UPDATE fires the INSERT statement
 * trigger with the rows it inserted) and plain row triggers on it (cloned to every partition).
 * New rows are staged by a statement trigger with a transition table; updated rows by a row
 * trigger whose WHEN clause lets unchanged rows pass without a call. They stage the ids of the
 * messages that:
 * - became visible (inserted with a timestamp, or a stub known only through a change that got its
 *   message): 'r', a `message.received` candidate. Not for a message the gateway is sending (it
 *   has an outbox row: the caller already has it from Send message), and not inside a history
 *   sync (`gateway.message_origin` = 'history', set by the sync's message store around a history
 *   chunk's upsert: those are the past, listed by List messages, not received now);
 * - were visible and changed a field the message resource shows: 'u', `message.updated`.
 * At commit the publisher turns them into one event per message (received wins over updated),
 * with the message as it is at commit; a message gone by then (its chat deleted) gives nothing.
 */
export class MessageEvents1765022000000 implements MigrationInterface {
  name = 'MessageEvents1765022000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE event_staging ADD COLUMN message_id bigint, ADD COLUMN message_op "char"`);

    // A message as GET /sessions/{session}/messages/{message} shows it (toMessageResponse and
    // OutboxStatusReader; tests hold the two together), except `queue`: where a pending message
    // stands in the send queue moves as the queue moves and with the clock, not with the message,
    // so an event carries null (GET shows it live). `failureReason` of a failed own message is the
    // outbox's, else WhatsApp's refusal (SEND_FAILURES.rejected).
    await queryRunner.query(`
      CREATE FUNCTION event_message_json(m messages) RETURNS jsonb LANGUAGE sql STABLE AS $$
        SELECT jsonb_build_object(
          'id', m.id, 'sessionId', m.session_id, 'chatId', m.chat_id,
          'key', jsonb_build_object('remoteJid', m.remote_jid, 'id', m.wa_id, 'fromMe', m.from_me, 'participant', m.participant),
          'senderJid', m.sender_jid, 'pushName', m.push_name, 'timestamp', m.ts, 'type', COALESCE(m.type, 'unsupported'),
          'text', m.body, 'quotedMessageId', m.quoted_id, 'mentions', to_jsonb(COALESCE(m.mentions, '{}'::text[])),
          'media', CASE WHEN m.media IS NOT NULL AND m.media <> 'null'::jsonb THEN jsonb_build_object(
            'mimetype', CASE WHEN jsonb_typeof(m.media -> 'mimetype') = 'string' THEN m.media -> 'mimetype' ELSE 'null'::jsonb END,
            'size', CASE WHEN jsonb_typeof(m.media -> 'size') = 'number' THEN m.media -> 'size' ELSE 'null'::jsonb END,
            'fileName', CASE WHEN jsonb_typeof(m.media -> 'fileName') = 'string' THEN m.media -> 'fileName' ELSE 'null'::jsonb END,
            'width', CASE WHEN jsonb_typeof(m.media -> 'width') = 'number' THEN m.media -> 'width' ELSE 'null'::jsonb END,
            'height', CASE WHEN jsonb_typeof(m.media -> 'height') = 'number' THEN m.media -> 'height' ELSE 'null'::jsonb END,
            'duration', CASE WHEN jsonb_typeof(m.media -> 'duration') = 'number' THEN m.media -> 'duration' ELSE 'null'::jsonb END) END,
          'status', CASE WHEN m.from_me THEN (ARRAY['pending', 'failed', 'sent', 'delivered', 'read', 'played'])[m.status] END,
          'editedAt', m.edited_at, 'deletedAt', m.deleted_at,
          'reactions', COALESCE((
            SELECT jsonb_agg(jsonb_build_object('senderJid', CASE WHEN r.key = 'me' THEN NULL ELSE r.key END, 'fromMe', r.key = 'me',
                'emoji', r.value -> 0, 'at', r.value -> 1)
              ORDER BY (r.value ->> 1)::numeric, CASE WHEN r.key = 'me' THEN '' ELSE r.key END COLLATE "C")
            FROM jsonb_each(CASE WHEN jsonb_typeof(m.reactions) = 'object' THEN m.reactions END) AS r
            WHERE jsonb_typeof(r.value -> 0) = 'string' AND r.value ->> 0 <> ''), '[]'::jsonb),
          'failureReason', CASE WHEN m.from_me AND m.status = 2 THEN COALESCE(
            (SELECT o.failure_reason FROM message_outbox o WHERE o.session_id = m.session_id AND o.message_id = m.id LIMIT 1),
            ${SQL_REJECTED}) END,
          'queue', NULL)
      $$`);

    // New rows: a statement trigger with its transition table stages them in one statement.
    await queryRunner.query(`
      CREATE FUNCTION event_stage_new_messages() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        staged integer;
      BEGIN
        IF current_setting('gateway.message_origin', true) IS NOT DISTINCT FROM 'history' THEN RETURN NULL; END IF;
        INSERT INTO event_staging (message_id, message_op, session_id)
        SELECT n.id, 'r', n.session_id FROM new_rows n
        WHERE n.ts IS NOT NULL
          AND NOT (n.from_me AND EXISTS (SELECT 1 FROM message_outbox o WHERE o.session_id = n.session_id AND o.message_id = n.id));
        GET DIAGNOSTICS staged = ROW_COUNT;
        IF staged > 0 THEN PERFORM event_mark_for_publication(); END IF;
        RETURN NULL;
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER messages_events_insert AFTER INSERT ON messages REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION event_stage_new_messages()`,
    );

    // Updated rows: a row trigger whose WHEN compares the stored columns, so that the rows an
    // upsert leaves as they were (most of a history chunk that repeats stored messages) cost one
    // comparison each and no call. (A statement trigger joining its old and new transition tables
    // was planned as a nested loop, the planner estimating one row for each: 140 µs per message
    // of an unchanged 1000-row chunk, bench/message-events-cost.ts.) The function then compares
    // the message as shown: a media download path, or a receipt of a received message (whose
    // status is not shown), changes columns but nothing shown.
    await queryRunner.query(`
      CREATE FUNCTION event_stage_changed_message() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.ts IS NULL THEN
          -- A change known before its message, which has now arrived: received (unless a history sync brought it).
          IF current_setting('gateway.message_origin', true) IS NOT DISTINCT FROM 'history' THEN RETURN NULL; END IF;
          INSERT INTO event_staging (message_id, message_op, session_id) VALUES (NEW.id, 'r', NEW.session_id);
        ELSIF event_message_json(NEW) IS DISTINCT FROM event_message_json(OLD) THEN
          INSERT INTO event_staging (message_id, message_op, session_id) VALUES (NEW.id, 'u', NEW.session_id);
        ELSE
          RETURN NULL;
        END IF;
        PERFORM event_mark_for_publication();
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER messages_events_update AFTER UPDATE ON messages FOR EACH ROW
      WHEN (NEW.ts IS NOT NULL AND (OLD.ts IS NULL OR
        (OLD.chat_id, OLD.remote_jid, OLD.participant, OLD.sender_jid, OLD.push_name, OLD.ts, OLD.type, OLD.body, OLD.quoted_id, OLD.mentions,
         OLD.media, OLD.status, OLD.edited_at, OLD.deleted_at, OLD.reactions)
        IS DISTINCT FROM
        (NEW.chat_id, NEW.remote_jid, NEW.participant, NEW.sender_jid, NEW.push_name, NEW.ts, NEW.type, NEW.body, NEW.quoted_id, NEW.mentions,
         NEW.media, NEW.status, NEW.edited_at, NEW.deleted_at, NEW.reactions)))
      EXECUTE FUNCTION event_stage_changed_message()`);

    await queryRunner.query(PUBLISH_WITH_MESSAGES);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(PUBLISH_CHATS_AND_READY_MADE);
    await queryRunner.query(`DROP TRIGGER messages_events_update ON messages`);
    await queryRunner.query(`DROP TRIGGER messages_events_insert ON messages`);
    await queryRunner.query(`DROP FUNCTION event_stage_changed_message(), event_stage_new_messages(), event_message_json(messages)`);
    await queryRunner.query(`DELETE FROM event_staging WHERE message_id IS NOT NULL`);
    await queryRunner.query(`ALTER TABLE event_staging DROP COLUMN message_op, DROP COLUMN message_id`);
  }
}

/**
 * The publisher of migration 1765018000000 with the messages' events added; `ready` excludes message
 * rows too. `serialised`: publication holds the event log's advisory lock exclusively through the
 * commit; otherwise in shared mode (migration 1796590000000: commits no longer wait for each other,
 * and readers learn from the lock's holders which numbers may still appear, event-log-tail.ts).
 * Migration 1796610000000 sets planner settings on the function: one that redefines it sets them again.
 */
export const publish = (withMessages: boolean, serialised = true) => `
  CREATE OR REPLACE FUNCTION event_publish() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    last_id bigint;
    now_ms constant bigint := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  BEGIN
    PERFORM ${serialised ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared'}(hashtextextended('gateway:event-log', 0));
    WITH staged AS (DELETE FROM event_staging WHERE tx = NEW.tx RETURNING *),
    chat_changes AS (
      SELECT chat_id, min(seq) AS seq, bool_or(chat_op = 'i') AS created,
        (array_agg(data ORDER BY seq DESC) FILTER (WHERE chat_op = 'd'))[1] AS deleted
      FROM staged WHERE chat_id IS NOT NULL GROUP BY chat_id),${
        withMessages
          ? `
    message_changes AS (
      SELECT session_id, message_id, min(seq) AS seq, bool_or(message_op = 'r') AS received
      FROM staged WHERE message_id IS NOT NULL GROUP BY session_id, message_id),`
          : ''
      }
    ready AS (
      SELECT seq, type, org_id, session_id, occurred_at, data FROM staged WHERE chat_id IS NULL${withMessages ? ' AND message_id IS NULL' : ''}
      UNION ALL
      SELECT cc.seq, CASE WHEN c.id IS NULL THEN 'chat.deleted' ELSE 'chat.updated' END, s.org_id,
        COALESCE(c.session_id, cc.deleted ->> 'sessionId'), now_ms,
        CASE WHEN c.id IS NULL THEN cc.deleted ELSE event_chat_json(c) END
      FROM chat_changes cc
      LEFT JOIN chats c ON c.id = cc.chat_id
      JOIN sessions s ON s.id = COALESCE(c.session_id, cc.deleted ->> 'sessionId')
      WHERE c.id IS NOT NULL OR NOT cc.created${
        withMessages
          ? `
      UNION ALL
      SELECT mc.seq, CASE WHEN mc.received THEN 'message.received' ELSE 'message.updated' END, s.org_id, mc.session_id, now_ms, mc.data
      FROM (
        -- One primary-key lookup per message (a subplan keyed by both columns, its partition pruned
        -- at run time): as a join, the planner, which cannot estimate the staged rows, scanned the
        -- session's messages once per staged one. OFFSET 0 keeps the subquery whole, so the
        -- message is shaped once, not again for the filter.
        SELECT x.seq, x.received, x.session_id,
          (SELECT event_message_json(m) FROM messages m WHERE m.session_id = x.session_id AND m.id = x.message_id AND m.ts IS NOT NULL) AS data
        FROM message_changes x
        OFFSET 0) mc
      JOIN sessions s ON s.id = mc.session_id
      WHERE mc.data IS NOT NULL`
          : ''
      }),
    numbered AS (
      INSERT INTO events (id, type, org_id, session_id, occurred_at, data)
      SELECT nextval('events_id_seq'), r.type, r.org_id, r.session_id, r.occurred_at, r.data FROM (SELECT * FROM ready ORDER BY seq) r
      RETURNING id)
    SELECT max(id) INTO last_id FROM numbered;
    DELETE FROM event_publish_marker WHERE tx = NEW.tx;
    IF last_id IS NOT NULL THEN PERFORM pg_notify('gateway_events', last_id::text); END IF;
    RETURN NULL;
  END $$`;
const PUBLISH_WITH_MESSAGES = publish(true);
const PUBLISH_CHATS_AND_READY_MADE = publish(false);
