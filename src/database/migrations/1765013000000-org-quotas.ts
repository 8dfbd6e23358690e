import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-organization quotas: how many sessions an org may have, and how many of them may run
 * (hold a WhatsApp connection). A row overrides the configured defaults (ORG_MAX_SESSIONS,
 * ORG_MAX_RUNNING_SESSIONS) for one org; NULL in a column keeps that default.
 */
export class OrgQuotas1765013000000 implements MigrationInterface {
  name = 'OrgQuotas1765013000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE org_quotas (
        org_id text PRIMARY KEY,
        max_sessions integer CHECK (max_sessions >= 0),
        max_running_sessions integer CHECK (max_running_sessions >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Counting an org's sessions (create) and running sessions (start, lease claims).
    await queryRunner.query(`CREATE INDEX sessions_org_running ON sessions (org_id) WHERE desired_state = 'running'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX sessions_org_running`);
    await queryRunner.query(`DROP TABLE org_quotas`);
  }
}
