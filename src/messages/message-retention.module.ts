import { Module } from '@nestjs/common';
import { MessageRetention } from './message-retention';

/** Per-org message retention and its sweep: no sockets, so the CLI can import it to set an org's retention. */
@Module({
  providers: [MessageRetention],
  exports: [MessageRetention],
})
export class MessageRetentionModule {}
