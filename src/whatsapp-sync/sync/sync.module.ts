import { Module } from '@nestjs/common';
import { SYNC_EVENT_SINK } from '../sync-event-sink';
import { ChatSyncService } from './chat-sync.service';
import { SyncMetrics } from './sync-metrics';
import { SyncStatusService } from './sync-status.service';
import { SyncStoreRepository } from './sync-store.repository';

/**
 * The data side of the WhatsApp sync: Baileys events -> the stored copy of each session's chats.
 * No sockets here, so the CLI can import it to replay recordings.
 */
@Module({
  providers: [SyncStoreRepository, SyncMetrics, ChatSyncService, SyncStatusService, { provide: SYNC_EVENT_SINK, useExisting: ChatSyncService }],
  exports: [SYNC_EVENT_SINK, ChatSyncService, SyncStatusService, SyncMetrics],
})
export class SyncModule {}
