import type { FastifyRequest } from 'fastify';

/**
 * The route pattern a request matched (e.g. `/api/v1/sessions/:session/chats`); undefined for
 * requests that matched no route.
 */
export function routePattern(request: FastifyRequest): string | undefined {
  return request.is404 ? undefined : request.routeOptions.url;
}
