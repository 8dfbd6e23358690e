import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { refusedBodyError } from '../http/malformed-requests';
import { AppError } from './app-error';
import { errorCodeForStatus } from './error-code';
import { isDatabaseUnavailable } from './database-unavailable';

/**
 * The one place that writes error responses: every error thrown anywhere in the app, including
 * unknown routes and malformed bodies, leaves as `{ "error": { code, message, details } }`.
 */
@Catch()
export class ErrorEnvelopeFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const error = this.toAppError(exception, request);
    if (reply.sent) return;
    reply.headers(error.headers).code(error.status).send(error.toEnvelope());
  }

  private toAppError(exception: unknown, request: FastifyRequest): AppError {
    if (exception instanceof AppError) return exception;
    if (exception instanceof HttpException) return fromHttpException(exception);
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn({ requestId: request.id, err: exception }, 'database unavailable');
      return new AppError('unavailable', 'the service is temporarily unavailable, retry later', {}, { 'Retry-After': '1' });
    }
    this.logger.error({ requestId: request.id, err: exception }, 'unhandled error');
    return new AppError('internal', 'internal error');
  }
}

function fromHttpException(exception: HttpException): AppError {
  const status = exception.getStatus();
  const code = errorCodeForStatus(status);
  if (status === 404) return new AppError('not_found', 'route not found');
  const refusedBody = refusedBodyError(status);
  if (refusedBody) return refusedBody;
  if (code === 'unauthenticated') return AppError.unauthenticated();
  return new AppError(code, code === 'internal' ? 'internal error' : exception.message);
}
