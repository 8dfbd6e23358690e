import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
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
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const error = this.toAppError(exception, request);
    if (response.headersSent) return;
    for (const [name, value] of Object.entries(error.headers)) response.setHeader(name, value);
    response.status(error.status).json({ error: { code: error.code, message: error.message, details: error.details } });
  }

  private toAppError(exception: unknown, request: Request): AppError {
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
  if (code === 'unauthenticated') return AppError.unauthenticated();
  return new AppError(code, code === 'internal' ? 'internal error' : exception.message);
}
