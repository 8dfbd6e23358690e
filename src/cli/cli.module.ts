import { DynamicModule, Module } from '@nestjs/common';
import { ApiKeysModule } from '../auth/api-keys/api-keys.module';
import { PaginationModule } from '../common/pagination/pagination.module';
import { AppConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { MessageRetentionModule } from '../messages/message-retention.module';
import { MetricsModule } from '../metrics/metrics.module';
import { SessionsModule } from '../sessions/sessions.module';
import { SyncModule } from '../whatsapp-sync/sync/sync.module';

/**
 * The parts of the app an operator's command needs: configuration, database, cursors (the services
 * list with them), keys, sessions, the sync store (no sockets), message retention, and the metrics
 * registry its modules register on (never served here).
 */
@Module({})
export class CliModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CliModule,
      imports: [
        ConfigModule.forRoot(config),
        MetricsModule.registryOnly(),
        DatabaseModule,
        PaginationModule,
        ApiKeysModule,
        SessionsModule,
        SyncModule,
        MessageRetentionModule,
      ],
    };
  }
}
