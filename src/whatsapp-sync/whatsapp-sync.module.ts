import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { CONNECTION_PROVIDERS } from './connection/connection.providers';
import { SyncModule } from './sync/sync.module';

/**
 * The WhatsApp connection per session (connection/, auth-state/, leases/), and its events -> the
 * stored copy (SYNC_EVENT_SINK, from SyncModule).
 */
@Module({
  imports: [SessionsModule, SyncModule],
  providers: [...CONNECTION_PROVIDERS],
  exports: [SyncModule],
})
export class WhatsAppSyncModule {}
