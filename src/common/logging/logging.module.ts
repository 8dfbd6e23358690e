import { Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Request } from 'express';
import { AppConfig } from '../../config/app-config';
import { withLogDestination } from './log-destination';
import { assignRequestId } from '../http/request-id';
import type { Principal } from '../../auth/principal';

/** Structured JSON logs through pino: one line per request, carrying the request id and the caller. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => withLogDestination(config.log, {
        forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
        pinoHttp: {
          level: config.log.level,
          genReqId: assignRequestId,
          redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], censor: '[redacted]' },
          customProps: (request) => {
            const principal = (request as Request & { user?: Principal }).user;
            return principal ? { orgId: principal.orgId, keyId: principal.keyId, subject: principal.subject } : {};
          },
          customLogLevel: (_request, response, error) =>
            error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info',
          transport: config.log.pretty ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
        },
      }),
    }),
  ],
})
export class LoggingModule {}
