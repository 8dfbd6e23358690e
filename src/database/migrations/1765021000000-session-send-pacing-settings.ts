import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-session send pacing (docs/sending.md, "Pacing"): `sessions.send_pacing` holds the session's
 * own settings, `{ "ratePerMinute", "burst", "jitterMs" }` (all three, integers in the bounds of
 * SEND_RATE_PER_MINUTE, SEND_BURST, SEND_JITTER_MS), or NULL for the configured defaults.
 */
export class SessionSendPacingSettings1765021000000 implements MigrationInterface {
  name = 'SessionSendPacingSettings1765021000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE sessions ADD COLUMN send_pacing jsonb CHECK (
        send_pacing IS NULL OR (
          jsonb_typeof(send_pacing -> 'ratePerMinute') = 'number' AND (send_pacing ->> 'ratePerMinute')::numeric BETWEEN 1 AND 6000
          AND jsonb_typeof(send_pacing -> 'burst') = 'number' AND (send_pacing ->> 'burst')::numeric BETWEEN 1 AND 1000
          AND jsonb_typeof(send_pacing -> 'jitterMs') = 'number' AND (send_pacing ->> 'jitterMs')::numeric BETWEEN 0 AND 600000))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE sessions DROP COLUMN send_pacing`);
  }
}
