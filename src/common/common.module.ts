import { Module } from '@nestjs/common';
import { LoggingModule } from './logging/logging.module';
import { PaginationModule } from './pagination/pagination.module';

/** What every feature module shares: logging with request ids and cursors. (The error envelope is written by src/http/.) */
@Module({
  imports: [LoggingModule, PaginationModule],
})
export class CommonModule {}
