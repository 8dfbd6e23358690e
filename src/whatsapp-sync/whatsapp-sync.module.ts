import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { MESSAGE_MEDIA_FETCHER } from '../messages/message-media-fetcher';
import { CONNECTION_PROVIDERS } from './connection/connection.providers';
import { CredentialCipherModule } from './auth-state/credential-cipher.module';
import { SyncModule } from './sync/sync.module';

/**
 * The WhatsApp connection per session (connection/, auth-state/, leases/), and its events -> the
 * stored copy (SYNC_EVENT_SINK, from SyncModule).
 */
@Module({
  imports: [SessionsModule, SyncModule, CredentialCipherModule],
  providers: [...CONNECTION_PROVIDERS],
  exports: [SyncModule, MESSAGE_MEDIA_FETCHER],
})
export class WhatsAppSyncModule {}
