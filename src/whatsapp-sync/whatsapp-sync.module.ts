import { Module } from '@nestjs/common';
import { SyncModule } from './sync/sync.module';

/** The WhatsApp connection per session, and its events -> the stored copy (SYNC_EVENT_SINK). */
@Module({
  imports: [SyncModule],
  exports: [SyncModule],
})
export class WhatsAppSyncModule {}
