import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { ShutdownCoordinator } from '../lifecycle/shutdown-coordinator';

/**
 * The readiness checks. Each reports only `up` or `down`: no error message, host, version or
 * timing leaves the process (the reason for a `down` is in the logs, not in the response).
 */
@Injectable()
export class ReadinessIndicators {
  /** Migrations never un-apply: once all are seen applied, the check stops querying. */
  private migrationsApplied = false;

  constructor(
    private readonly health: HealthIndicatorService,
    private readonly dataSource: DataSource,
    private readonly shutdown: ShutdownCoordinator,
    private readonly config: AppConfig,
  ) {}

  /** The database answers `SELECT 1` within DATABASE_HEALTH_TIMEOUT_MS. */
  async database(): Promise<HealthIndicatorResult> {
    const check = this.health.check('database');
    return (await this.withinTimeout(this.dataSource.query('SELECT 1'))) ? check.up() : check.down();
  }

  /** Every migration this build knows is recorded as applied (a Job or another replica may still be running them). */
  async migrations(): Promise<HealthIndicatorResult> {
    const check = this.health.check('migrations');
    if (!this.migrationsApplied) {
      const rows = await this.withinTimeout(this.appliedMigrations());
      if (rows) {
        const applied = new Set(rows.map((row) => row.name));
        this.migrationsApplied = this.dataSource.migrations.every((migration) => applied.has(migration.name ?? migration.constructor.name));
      }
    }
    return this.migrationsApplied ? check.up() : check.down();
  }

  /** Names of the applied migrations; none while the migrations table does not exist yet. */
  private async appliedMigrations(): Promise<{ name: string }[]> {
    const table = this.dataSource.options.migrationsTableName ?? 'migrations';
    const [{ present }] = await this.dataSource.query<{ present: boolean }[]>('SELECT to_regclass($1) IS NOT NULL AS present', [table]);
    return present ? this.dataSource.query(`SELECT name FROM "${table}"`) : [];
  }

  /** The replica is not shutting down. */
  draining(): HealthIndicatorResult {
    const check = this.health.check('shutdown');
    return this.shutdown.isDraining ? check.down() : check.up();
  }

  /** The promise's value, or undefined when it failed or took longer than the health timeout. */
  private async withinTimeout<T>(work: Promise<T>): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.config.health.databaseTimeoutMs);
    });
    try {
      return await Promise.race([work.catch(() => undefined), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
