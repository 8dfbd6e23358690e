import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { NestLogger } from './nest-logger';
import { createRootLogger, ROOT_LOGGER } from './root-logger';

/**
 * Structured JSON logs through one pino logger: Nest's application log (NestLogger) and the
 * request log (src/http/request-log.ts, attached to the HTTP server by the HTTP platform).
 */
@Global()
@Module({
  providers: [{ provide: ROOT_LOGGER, inject: [AppConfig], useFactory: (config: AppConfig) => createRootLogger(config.log) }, NestLogger],
  exports: [ROOT_LOGGER, NestLogger],
})
export class LoggingModule {}
