import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import type { AppConfig } from '../config/app-config';
import { ApiKey } from '../auth/api-keys/api-key.entity';
import { Chat } from '../chats/chat.entity';
import { Session } from '../sessions/session.entity';
import { MIGRATIONS } from './migrations';
import { watchedClientClass } from './watched-client';

export interface DatabaseConnectionSettings {
  url: string;
  poolMax?: number;
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
  /** PostgreSQL ends a connection idle inside a transaction this long (AppConfig says why). */
  idleInTransactionTimeoutMs?: number;
  /** Shown in pg_stat_activity; the app adds its replica id. */
  applicationName?: string;
}

export const ENTITIES = [Session, Chat, ApiKey];

/** The running gateway's connection settings: its configured database, named after its replica in pg_stat_activity. */
export function gatewayConnectionSettings(config: AppConfig): DatabaseConnectionSettings {
  if (!config.database.url) throw new Error('DATABASE_URL is not set and no embedded PostgreSQL was started');
  return { ...config.database, url: config.database.url, applicationName: `whatsapp-gateway/${config.sessions.replicaId}` };
}

/** The one definition of the DataSource: used by the app, the CLI, the tests and ormconfig.ts. */
export function dataSourceOptions(settings: DatabaseConnectionSettings): PostgresConnectionOptions {
  return {
    type: 'postgres',
    url: settings.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: {
      max: settings.poolMax ?? 10,
      connectionTimeoutMillis: settings.connectTimeoutMs ?? 5000,
      statement_timeout: settings.statementTimeoutMs ?? 15_000,
      idle_in_transaction_session_timeout: settings.idleInTransactionTimeoutMs ?? 15_000,
      // Client side: a query on a connection that went silent (network partition) fails instead of hanging.
      Client: watchedClientClass((settings.statementTimeoutMs ?? 15_000) + 1000),
      keepAlive: true,
      application_name: (settings.applicationName ?? 'whatsapp-gateway').slice(0, 63),
    },
  };
}
