import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How far retention has swept each organization's events: the highest id it deleted. A stream
 * that resumes from an id below it has lost events to retention and is told so (an SSE `gap`
 * message, docs/events.md) instead of silently skipping them.
 */
export class EventLogHorizon1765022100000 implements MigrationInterface {
  name = 'EventLogHorizon1765022100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE event_log_horizon (org_id text PRIMARY KEY, swept_through bigint NOT NULL)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE event_log_horizon`);
  }
}
