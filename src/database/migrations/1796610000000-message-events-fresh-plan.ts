import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The new-messages trigger's statement, planned at every run instead of once per connection.
 *
 * PL/pgSQL keeps the plan of a statement without variables for the life of the connection, made
 * from the tables as they were at its first run; only an ANALYZE of a table it reads makes a new
 * one. The statement asks, for each own message, whether the outbox holds it: planned while
 * `message_outbox` was nearly empty, that was a hashed subplan over a sequential scan of the whole
 * outbox, and it stayed so as the outbox grew. Each accept batch on such a connection then read
 * every outbox row (docs/performance.md, "Send message accept: a plan frozen in a trigger"): in
 * the bench, where nothing analyzes the tables, the accept batches of the gateway that had
 * accepted first slowed from about 15 to 50-60 ms once the outbox held some 30,000 rows, and its
 * accept rate fell to a third in those windows. Run through EXECUTE, the statement is planned with
 * the outbox as it is: one index probe per own message.
 */
export class MessageEventsFreshPlan1796610000000 implements MigrationInterface {
  name = 'MessageEventsFreshPlan1796610000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(stageNewMessages(true));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(stageNewMessages(false));
  }
}

const STAGE_RECEIVED = `
        INSERT INTO event_staging (message_id, message_op, session_id)
        SELECT n.id, 'r', n.session_id FROM new_rows n
        WHERE n.ts IS NOT NULL
          AND NOT (n.from_me AND EXISTS (SELECT 1 FROM message_outbox o WHERE o.session_id = n.session_id AND o.message_id = n.id))`;

const stageNewMessages = (planAtEveryRun: boolean) => `
      CREATE OR REPLACE FUNCTION event_stage_new_messages() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        staged integer;
      BEGIN
        IF current_setting('gateway.message_origin', true) IS NOT DISTINCT FROM 'history' THEN RETURN NULL; END IF;
        ${planAtEveryRun ? `EXECUTE $stage$${STAGE_RECEIVED}$stage$` : STAGE_RECEIVED};
        GET DIAGNOSTICS staged = ROW_COUNT;
        IF staged > 0 THEN PERFORM event_mark_for_publication(); END IF;
        RETURN NULL;
      END $$`;
