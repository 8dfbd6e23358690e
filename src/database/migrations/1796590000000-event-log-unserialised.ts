import { MigrationInterface, QueryRunner } from 'typeorm';
import { publish } from './1765022000000-message-events';

/**
 * Event publication without serializing commits. The event log's advisory lock, held exclusively
 * from numbering to the commit (WAL flush included), made ids grow in commit order but made every
 * transaction that published events commit one at a time (docs/performance.md, "Events"). Now each
 * holds it in shared mode over the same span: transactions number their events as they commit,
 * concurrently, and a number may become visible after a higher one. Readers read up to the settled
 * horizon instead of the newest event (EventLogTail, docs/events.md): a number missing below a
 * visible one belongs to a transaction still committing, or one that rolled back, and the holders
 * of the lock (pg_locks) tell which, without waiting on it. The sequence hands out one number at a
 * time (no CACHE).
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
