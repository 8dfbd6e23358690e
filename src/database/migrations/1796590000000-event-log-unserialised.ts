import { MigrationInterface, QueryRunner } from 'typeorm';
import { publish } from './1765022000000-message-events';

/**
 * Event publication without the event log's advisory lock. The lock made ids grow in commit order
 * by holding it from numbering to the commit, WAL flush included, so every transaction that
 * published events committed one at a time (docs/performance.md, "Events"). Now transactions
 * number their events as they commit, concurrently, and a number may become visible after a higher
 * one. Readers no longer read up to the newest event but up to the settled horizon: the highest id
 * below which every number taken is visible or belongs to a transaction that has ended
 * (EventLogTail, docs/events.md). The sequence hands out one number at a time (no CACHE), so a
 * number missing below a visible one is a transaction still committing, or one that rolled back.
 */
export class EventLogUnserialised1796590000000 implements MigrationInterface {
  name = 'EventLogUnserialised1796590000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER SEQUENCE events_id_seq CACHE 1`);
    await queryRunner.query(publish(true, false));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(publish(true, true));
  }
}
