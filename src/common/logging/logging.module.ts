import { Module, RequestMethod } from '@nestjs/common';
import { LoggerModule, Params } from 'nestjs-pino';
import pino from 'pino';
import type { Request } from 'express';
import { AppConfig } from '../../config/app-config';
import { assignRequestId } from '../http/request-id';
import type { Principal } from '../../auth/principal';

type PinoHttpOptions = Exclude<NonNullable<Params['pinoHttp']>, unknown[] | pino.DestinationStream>;

const ASYNC_LOG_BUFFER_BYTES = 4096;
// pino-http makes a child logger for any bindings object, even an empty one; for "no bindings" it
// makes none. Its types do not admit undefined, its code does. The log line is the same either way.
const NO_BINDINGS = undefined as unknown as pino.Bindings;

/** Structured JSON logs through pino: one line per request, carrying the request id and the caller. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        const options: PinoHttpOptions = {
          level: config.log.level,
          genReqId: assignRequestId,
          redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], censor: '[redacted]' },
          // Called when the request arrives (no caller known yet) and when it completes.
          customProps: (request) => {
            const principal = (request as Request & { user?: Principal }).user;
            return principal ? { orgId: principal.orgId, keyId: principal.keyId, subject: principal.subject } : NO_BINDINGS;
          },
          customLogLevel: (_request, response, error) =>
            error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info',
          transport: config.log.pretty ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
        };
        // LOG_ASYNC: lines are buffered and written in the background, not with one write(2) each.
        // Pretty output already goes through a worker thread (its transport).
        const destination = config.log.async && !config.log.pretty ? pino.destination({ dest: 1, sync: false, minLength: ASYNC_LOG_BUFFER_BYTES }) : undefined;
        return { forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }], pinoHttp: destination ? [options, destination] : options };
      },
    }),
  ],
})
export class LoggingModule {}
