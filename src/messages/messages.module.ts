import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { WhatsAppSyncModule } from '../whatsapp-sync/whatsapp-sync.module';
import { MessageRetentionModule } from './message-retention.module';
import { MessagesController } from './messages.controller';
import { MessagesRepository } from './messages.repository';
import { MessagesService } from './messages.service';
import { IdempotentRequests } from './sending/idempotency';
import { OutboxRepository } from './sending/outbox.repository';
import { AcceptBatches } from './sending/accept-batches';
import { OutboxStatusReader } from './sending/outbox-status.reader';
import { MessageWritesService } from './sending/message-writes.service';
import { SendMessageService } from './sending/send-message.service';
import { MediaStaging } from './sending/media-staging';
import { SessionsModule } from '../sessions/sessions.module';

/** The stored copy of every chat's messages, and its API. The sync writes it (whatsapp-sync/sync). */
@Module({
  // DatabaseModule: the page-read pool the pages are read on.
  imports: [DatabaseModule, WhatsAppSyncModule, MessageRetentionModule, SessionsModule],
  controllers: [MessagesController],
  providers: [
    MessagesService,
    MessagesRepository,
    SendMessageService,
    MediaStaging,
    OutboxRepository,
    AcceptBatches,
    OutboxStatusReader,
    MessageWritesService,
    IdempotentRequests,
  ],
  exports: [MessagesService],
})
export class MessagesModule {}
