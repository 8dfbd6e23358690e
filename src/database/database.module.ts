import { Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { AppConfig } from '../config/app-config';
import { DatabasePoolMetrics } from './database-pool-metrics';
import { dataSourceOptions, gatewayConnectionSettings } from './data-source.options';
import { runPendingMigrations } from './migrate';
import { PageReadPool } from './page-read-pool';

type StartupOptions = PostgresConnectionOptions & { migrateOnStart: boolean };

/**
 * The database: TypeORM's DataSource (migrations run before any other provider touches it), the
 * page-read pool beside it, and the pools' gauges.
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        const options: StartupOptions = {
          ...dataSourceOptions(gatewayConnectionSettings(config)),
          migrateOnStart: config.database.migrateOnStart,
        };
        return { ...options, retryAttempts: 0 };
      },
      // Migrations run before any other provider can touch the database.
      dataSourceFactory: async (options) => {
        const dataSource = await new DataSource(options!).initialize();
        if ((options as StartupOptions).migrateOnStart) {
          const applied = await runPendingMigrations(dataSource);
          if (applied.length > 0) new Logger('Database').log(`applied migrations: ${applied.join(', ')}`);
        }
        return dataSource;
      },
    }),
  ],
  // The page-read pool (List chats) and the pool gauges sit beside TypeORM's DataSource.
  providers: [DatabasePoolMetrics, PageReadPool],
  exports: [DatabasePoolMetrics, PageReadPool],
})
export class DatabaseModule {}
