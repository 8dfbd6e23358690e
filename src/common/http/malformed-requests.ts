import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors/app-error';

/**
 * Fastify refuses an oversized body (413) or one of a type no parser takes (415) before any
 * handler; Nest hands these to the filters as HttpExceptions. Their API errors, or undefined for
 * any other status.
 */
export function refusedBodyError(status: number): AppError | undefined {
  if (status === 413) return new AppError('payload_too_large', 'request body is too large');
  if (status === 415) return AppError.invalidArgument('unsupported content type: send application/json', { parameter: 'body' });
  return undefined;
}

/**
 * JSON bodies go through Fastify's own parser (prototype poisoning refused), except that an empty
 * body is no body: clients send `Content-Type: application/json` on a bodiless DELETE or POST.
 */
export function useJsonBodyParser(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    parseJson(request, body as string, (error, value) => {
      if (error) return done(AppError.invalidArgument('request body is not valid JSON', { parameter: 'body' }), undefined);
      done(null, value);
    });
  });
}

/**
 * What Fastify's router reports before routing (frameworkErrors): a path that is not valid
 * percent-encoding names no resource (404); anything else is a malformed request.
 */
export function frameworkError(error: { code?: string }): AppError {
  return error.code === 'FST_ERR_BAD_URL' ? new AppError('not_found', 'route not found') : AppError.invalidArgument('malformed request');
}
