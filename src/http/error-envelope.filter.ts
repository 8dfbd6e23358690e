import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AppError } from '../common/errors/app-error';
import { errorCodeForStatus } from '../common/errors/error-code';
import { isDatabaseUnavailable } from '../common/errors/database-unavailable';
import { isUnstorableTextError } from '../common/errors/unstorable-value';
import { refusedBodyError, routeNotFound } from './json-body';

/**
 * The one place that writes error responses: every error thrown anywhere in the app, including
 * unknown routes and malformed bodies, leaves as `{ "error": { code, message, details } }`. It
 * answers through Nest's HTTP adapter, so it is the same code on every platform.
 */
@Catch()
export class ErrorEnvelopeFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<{ id?: string }>();
    const response: unknown = http.getResponse();
    const error = this.toAppError(exception, request.id);
    const adapter = this.adapterHost.httpAdapter;
    if (adapter.isHeadersSent(response)) return;
    for (const [name, value] of Object.entries(error.headers)) adapter.setHeader(response, name, value);
    adapter.reply(response, error.toEnvelope(), error.status);
  }

  private toAppError(exception: unknown, requestId: string | undefined): AppError {
    if (exception instanceof AppError) return exception;
    if (exception instanceof HttpException) return fromHttpException(exception);
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn({ requestId, err: exception }, 'database unavailable');
      return new AppError('unavailable', 'the service is temporarily unavailable, retry later', {}, { 'Retry-After': '1' });
    }
    if (isUnstorableTextError(exception)) {
      // A request value no validation caught: the client's 400, and a warning so the gap gets a check.
      this.logger.warn({ requestId, err: exception }, 'the database refused a request value (NUL or unpaired surrogate)');
      return AppError.invalidArgument('a value contains characters that cannot be stored (NUL or unpaired surrogates)');
    }
    this.logger.error({ requestId, err: exception }, 'unhandled error');
    return new AppError('internal', 'internal error');
  }
}

function fromHttpException(exception: HttpException): AppError {
  const status = exception.getStatus();
  const code = errorCodeForStatus(status);
  if (status === 404) return routeNotFound();
  const refusedBody = refusedBodyError(status);
  if (refusedBody) return refusedBody;
  if (code === 'unauthenticated') return AppError.unauthenticated();
  return new AppError(code, code === 'internal' ? 'internal error' : exception.message);
}
