import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SyncModule } from '../whatsapp-sync/sync/sync.module';
import { Session } from './session.entity';
import { SessionOwnership } from './session-ownership';
import { SessionsController } from './sessions.controller';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';

@Module({
  // SyncModule provides SESSION_SYNC_STATUS: GET /sessions/{id} shows the sync status of the session's stored copy.
  imports: [TypeOrmModule.forFeature([Session]), SyncModule],
  controllers: [SessionsController],
  providers: [SessionsService, SessionsRepository, SessionOwnership],
  // SessionOwnership: every module that takes a session id from a caller checks it there.
  exports: [SessionsService, SessionOwnership],
})
export class SessionsModule {}
