import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { SessionsModule } from '../sessions/sessions.module';
import { EventLogTail } from './event-log-tail';
import { EventLogRepository } from './event-log.repository';
import { EventRetention } from './event-retention';
import { EventStreamService } from './event-stream.service';
import { EventsController } from './events.controller';

/** The event log (written by the database in the transaction of each change), its retention, and the SSE stream. */
@Module({
  imports: [JobsModule, SessionsModule],
  controllers: [EventsController],
  providers: [EventLogRepository, EventLogTail, EventRetention, EventStreamService],
  exports: [EventLogRepository, EventLogTail],
})
export class EventsModule {}
