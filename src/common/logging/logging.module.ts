import { Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '../../config/app-config';
import { withLogDestination } from './log-destination';
import { assignRequestId } from '../http/request-id';
import { prettyTransport, requestLogLevel, requestLogProps, serializeError, serializeRequest, serializeResponse } from './request-log';

/**
 * Structured JSON logs through pino: one line per request with method, path, route pattern,
 * status, duration (`durationMs`), request id, and the caller's org and key id (or login
 * subject). Headers are never logged; the secret-bearing ones are redacted should anything log them.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => withLogDestination(config.log, {
        forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
        pinoHttp: {
          level: config.log.level,
          genReqId: assignRequestId,
          redact: {
            paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'res.headers["set-cookie"]', 'headers.authorization'],
            censor: '[redacted]',
          },
          serializers: { req: serializeRequest, res: serializeResponse, err: serializeError },
          customAttributeKeys: { responseTime: 'durationMs' },
          customProps: requestLogProps,
          customLogLevel: requestLogLevel,
          // One message for every request line; a 5xx line carries no synthetic error (the error filter logs the real one).
          customSuccessMessage: () => 'request completed',
          customErrorMessage: () => 'request completed',
          customErrorObject: (_request, _response, error, line) => (/^failed with status code \d+$/.test(error.message) ? { ...line, err: undefined } : line),
          transport: prettyTransport(config.log.pretty),
        },
      }),
    }),
  ],
})
export class LoggingModule {}
