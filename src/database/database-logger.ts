import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';

/**
 * TypeORM's messages through the app's logger (JSON lines in production), never with query
 * parameters: they can hold secrets (a generated cursor secret, API key hashes) and personal data.
 */
export class DatabaseLogger implements TypeOrmLogger {
  private readonly logger = new NestLogger('Database');

  logQuery(): void {
    // Successful queries are not logged.
  }

  logQueryError(error: string | Error, query: string): void {
    const { message, code } = typeof error === 'string' ? { message: error, code: undefined } : (error as Error & { code?: string });
    this.logger.warn({ code, query: query.replace(/\s+/g, ' ').slice(0, 500) }, `query failed: ${message}`);
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ durationMs: time, query: query.replace(/\s+/g, ' ').slice(0, 500) }, 'slow query');
  }

  logSchemaBuild(): void {
    // Schema synchronisation is off; migrations log through logMigration.
  }

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
    else this.logger.log(String(message));
  }
}
