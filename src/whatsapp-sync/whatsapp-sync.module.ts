import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { CONNECTION_PROVIDERS } from './connection/connection.providers';

/** The WhatsApp connection of each session (connection/, auth-state/, leases/), and events -> stored copy. */
@Module({
  imports: [SessionsModule],
  providers: [...CONNECTION_PROVIDERS],
})
export class WhatsAppSyncModule {}
