import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ErrorEnvelopeFilter } from './errors/error-envelope.filter';
import { LoggingModule } from './logging/logging.module';
import { PaginationModule } from './pagination/pagination.module';

/** What every feature module shares: logging with request ids, the error envelope, cursors. */
@Module({
  imports: [LoggingModule, PaginationModule],
  providers: [{ provide: APP_FILTER, useClass: ErrorEnvelopeFilter }],
})
export class CommonModule {}
