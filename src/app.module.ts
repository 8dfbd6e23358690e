import { DynamicModule, Module } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { ApiKeysModule } from './auth/api-keys/api-keys.module';
import { ChatsModule } from './chats/chats.module';
import { CommonModule } from './common/common.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { EventsModule } from './events/events.module';
import { GlobalGuardsModule } from './global-guards.module';
import { HealthModule } from './health/health.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { MessagesModule } from './messages/messages.module';
import { MetricsModule } from './metrics/metrics.module';
import { SessionsModule } from './sessions/sessions.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { WhatsAppSyncModule } from './whatsapp-sync/whatsapp-sync.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule,
        CommonModule,
        LifecycleModule,
        MetricsModule.forRoot(config),
        // Authentication, capability and rate-limit guards, in that order.
        GlobalGuardsModule,
        HealthModule,
        SessionsModule,
        ChatsModule,
        WhatsAppSyncModule,
        MessagesModule,
        EventsModule,
        WebhooksModule,
        // The public API lives under /api/v1; operational endpoints (health, metrics) stay at the root.
        RouterModule.register([{ path: 'api/v1', children: [SessionsModule, ChatsModule, MessagesModule, ApiKeysModule, EventsModule, WebhooksModule] }]),
      ],
    };
  }
}
