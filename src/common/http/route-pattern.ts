import type { IncomingMessage } from 'node:http';

/** Nest mounts module middleware (logging, metrics) on this catch-all route: matching it says nothing about the request. */
const MIDDLEWARE_CATCH_ALL = '/{*path}';

/**
 * The route pattern a request matched (e.g. `/api/v1/sessions/:session/chats`), once a controller
 * route has matched; undefined before that, and for requests that matched no route.
 */
export function routePattern(request: IncomingMessage): string | undefined {
  const path = (request as IncomingMessage & { route?: { path?: unknown } }).route?.path;
  return typeof path === 'string' && path !== MIDDLEWARE_CATCH_ALL ? path : undefined;
}
