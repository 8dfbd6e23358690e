import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../errors/app-error';

/**
 * body-parser reports a bad body as an error carrying `type` (e.g. `entity.parse.failed`) and a
 * 4xx status. Turn those into the API's own errors before Nest sees them, so the envelope says
 * what was wrong with the body without echoing parser internals.
 */
export function bodyParserErrors(error: unknown, _request: Request, _response: Response, next: NextFunction): void {
  const { type, status } = (error ?? {}) as { type?: unknown; status?: unknown };
  if (typeof type !== 'string' || typeof status !== 'number' || status < 400 || status >= 500) return next(error);
  if (status === 413) return next(new AppError('payload_too_large', 'request body is too large'));
  if (type === 'entity.parse.failed') return next(AppError.invalidArgument('request body is not valid JSON', { parameter: 'body' }));
  return next(AppError.invalidArgument('request body cannot be read', { parameter: 'body' }));
}

/** A path that is not valid percent-encoding names no resource: 404, before any routing or auth. */
export function rejectUndecodablePaths(request: Request, _response: Response, next: NextFunction): void {
  try {
    decodeURIComponent(request.path);
  } catch {
    return next(new AppError('not_found', 'route not found'));
  }
  next();
}
