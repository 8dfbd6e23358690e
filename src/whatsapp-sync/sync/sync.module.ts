import { Module } from '@nestjs/common';
import { SESSION_SYNC_STATUS } from '../../sessions/session-sync-status';
import { SYNC_EVENT_SINK } from '../sync-event-sink';
import { CredentialCipherModule } from '../auth-state/credential-cipher.module';
import { ChatSyncService } from './chat-sync.service';
import { MessageSyncWriter } from './message-sync.writer';
import { SyncMetrics } from './sync-metrics';
import { SyncStatusService } from './sync-status.service';
import { ChatUpsertStore } from './store/chat-upsert.store';
import { ContactsUnreadStore } from './store/contacts-unread.store';
import { LidMergeStore } from './store/lid-merge.store';
import { MessageStore } from './store/message.store';
import { SyncStateStore } from './store/sync-state.store';
import { SyncTransactions } from './store/sync-transactions';

/**
 * The data side of the WhatsApp sync: Baileys events -> the stored copy of each session's chats.
 * No sockets here, so the CLI can import it to replay recordings.
 */
@Module({
  imports: [CredentialCipherModule],
  providers: [
    SyncTransactions,
    ChatUpsertStore,
    LidMergeStore,
    ContactsUnreadStore,
    SyncStateStore,
    MessageStore,
    MessageSyncWriter,
    SyncMetrics,
    ChatSyncService,
    SyncStatusService,
    { provide: SYNC_EVENT_SINK, useExisting: ChatSyncService },
    { provide: SESSION_SYNC_STATUS, useExisting: SyncStatusService },
  ],
  exports: [SYNC_EVENT_SINK, SESSION_SYNC_STATUS, ChatSyncService, SyncStatusService, SyncMetrics],
})
export class SyncModule {}
