import { Module } from '@nestjs/common';
import { PageReadPool } from '../database/page-read-pool';
import { SessionsModule } from '../sessions/sessions.module';
import { ChatsController } from './chats.controller';
import { ChatsRepository } from './chats.repository';
import { ChatsService } from './chats.service';

@Module({
  imports: [SessionsModule],
  controllers: [ChatsController],
  providers: [ChatsService, ChatsRepository, PageReadPool],
  exports: [ChatsService],
})
export class ChatsModule {}
