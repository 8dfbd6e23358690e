import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Plans of the event log's triggers that no longer depend on how big the tables were when a
 * connection first ran them.
 *
 * PL/pgSQL keeps a statement's plan for the life of the connection: a statement without variables
 * is planned once, at its first run; one with variables gets a generic plan after five runs. Either
 * is made from the tables as they were then, and only an ANALYZE of a table it reads makes a new
 * one (never, where autovacuum is off; only every tenth of a table's growth where it is on). Plans
 * made while the tables were nearly empty stayed as they grew (docs/performance.md, "Plans frozen
 * in the event log's triggers"):
 *
 * - the new-messages trigger looked up each own message in the outbox with a hashed subplan over a
 *   sequential scan of the whole outbox: in the bench, the accept batches of the gateway that had
 *   accepted first slowed from about 15 to 50-60 ms once the outbox held some 30,000 rows. It now
 *   runs its statement through EXECUTE, planned at every run (a simple statement: well under a
 *   millisecond), one index probe per own message;
 * - event publication, at every commit that staged events, joined the changed chats with a hash
 *   join over a sequential scan of all chats: 60-90 ms per commit with 300,000 chats instead of
 *   about 2 ms. Planning it at every run costs 3.5-4 ms (it reaches the 32 partitions of
 *   `messages`), so its plan is kept to index lookups and nested loops instead, which stay right
 *   at any size: every table it reads is read by key;
 * - the chats trigger joined a statement's old and new rows with a nested loop (planned when a
 *   statement had changed one chat): 2.5 s for an update of 5,000 chats instead of 0.14 to 0.2 s.
 *   Its plan is kept to hash or merge joins, which stay right at any number of rows.
 *
 * A later migration that redefines one of these functions must set them again.
 */
export class EventTriggerPlans1796610000000 implements MigrationInterface {
  name = 'EventTriggerPlans1796610000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(stageNewMessages(true));
    await queryRunner.query(`ALTER FUNCTION event_publish() SET enable_seqscan = off`);
    await queryRunner.query(`ALTER FUNCTION event_publish() SET enable_hashjoin = off`);
    await queryRunner.query(`ALTER FUNCTION event_publish() SET enable_mergejoin = off`);
    await queryRunner.query(`ALTER FUNCTION event_stage_chats() SET enable_nestloop = off`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER FUNCTION event_stage_chats() RESET ALL`);
    await queryRunner.query(`ALTER FUNCTION event_publish() RESET ALL`);
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
