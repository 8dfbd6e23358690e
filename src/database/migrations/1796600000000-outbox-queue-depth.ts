import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How many of a session's outbox rows are pending, kept as a number (`outbox_queue_depth`) instead
 * of counted. An accepted message answers where it stands in its session's queue; counting the
 * pending rows made each accept cost in proportion to the queue (an index-only scan that still
 * visits every new row's heap page): with about 800 queued per session, the count was 6.7 ms of
 * an accept batch's 11.8 ms in PostgreSQL (docs/performance.md, "Send message accept: queue
 * depth"), and a bulk send of n messages cost n² / 2 row visits.
 *
 * Statement triggers keep the number, whatever statement moves a row into or out of `pending`
 * (accepts, sends, failures, expiry, the ack sweep's requeue, deletes): one home for the rule.
 * Each trigger applies its statement's changes in session order, so two statements that change
 * several sessions (an expiry sweep, an accept batch) lock their numbers in one order and cannot
 * deadlock on them. A delete changes only numbers that exist: a session's own deletion cascades
 * to both tables. The price: a statement holds its sessions' numbers until it commits, so two
 * replicas' accept batches for one session commit one after the other.
 */
export class OutboxQueueDepth1796600000000 implements MigrationInterface {
  name = 'OutboxQueueDepth1796600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE outbox_queue_depth (
        session_id text PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
        pending integer NOT NULL
      )`);
    await queryRunner.query(`
      CREATE FUNCTION outbox_queue_depth_count() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          PERFORM 1 FROM outbox_queue_depth d
          WHERE d.session_id IN (SELECT session_id FROM old_rows WHERE state = 'pending')
          ORDER BY d.session_id FOR UPDATE;
          UPDATE outbox_queue_depth d SET pending = d.pending - x.n
          FROM (SELECT session_id, count(*) AS n FROM old_rows WHERE state = 'pending' GROUP BY session_id) x
          WHERE d.session_id = x.session_id;
        ELSIF TG_OP = 'INSERT' THEN
          INSERT INTO outbox_queue_depth AS d (session_id, pending)
          SELECT session_id, count(*) FROM new_rows WHERE state = 'pending' GROUP BY session_id ORDER BY session_id
          ON CONFLICT (session_id) DO UPDATE SET pending = d.pending + EXCLUDED.pending;
        ELSE
          INSERT INTO outbox_queue_depth AS d (session_id, pending)
          SELECT session_id, sum(n) FROM (
            SELECT session_id, 1 AS n FROM new_rows WHERE state = 'pending'
            UNION ALL
            SELECT session_id, -1 FROM old_rows WHERE state = 'pending') changes
          GROUP BY session_id HAVING sum(n) <> 0 ORDER BY session_id
          ON CONFLICT (session_id) DO UPDATE SET pending = d.pending + EXCLUDED.pending;
        END IF;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER outbox_queue_depth_insert AFTER INSERT ON message_outbox REFERENCING NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION outbox_queue_depth_count()`);
    await queryRunner.query(`
      CREATE TRIGGER outbox_queue_depth_update AFTER UPDATE ON message_outbox REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION outbox_queue_depth_count()`);
    await queryRunner.query(`
      CREATE TRIGGER outbox_queue_depth_delete AFTER DELETE ON message_outbox REFERENCING OLD TABLE AS old_rows
      FOR EACH STATEMENT EXECUTE FUNCTION outbox_queue_depth_count()`);
    // CREATE TRIGGER's lock keeps writers out until this migration's transaction commits.
    await queryRunner.query(`
      INSERT INTO outbox_queue_depth (session_id, pending)
      SELECT session_id, count(*) FROM message_outbox WHERE state = 'pending' GROUP BY session_id`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER outbox_queue_depth_delete ON message_outbox`);
    await queryRunner.query(`DROP TRIGGER outbox_queue_depth_update ON message_outbox`);
    await queryRunner.query(`DROP TRIGGER outbox_queue_depth_insert ON message_outbox`);
    await queryRunner.query(`DROP FUNCTION outbox_queue_depth_count()`);
    await queryRunner.query(`DROP TABLE outbox_queue_depth`);
  }
}
