import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request } from 'express';
import type { Principal } from '../../auth/principal';
import { routePattern } from '../http/route-pattern';

/** Paths polled by Kubernetes and Prometheus: logged only when they fail. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

type SerializedRequest = { id: unknown; method: string; url: string; raw: IncomingMessage & Partial<Request> };
type SerializedResponse = { statusCode: number };

/**
 * What a request line says about the request: id, method, path (without the query string, which is
 * the caller's business) and client address (X-Forwarded-For when TRUST_PROXY allows). Never headers,
 * so never a token or an API key.
 */
export function serializeRequest(request: SerializedRequest): Record<string, unknown> {
  const raw = request.raw;
  const url = raw?.originalUrl ?? request.url;
  return { id: request.id, method: request.method, path: url.split('?', 1)[0], ip: raw?.ip ?? raw?.socket?.remoteAddress };
}

export function serializeResponse(response: SerializedResponse): Record<string, unknown> {
  return { statusCode: response.statusCode };
}

/**
 * A logged error without the SQL parameters TypeORM attaches to a QueryFailedError: they can hold
 * secrets (a generated cursor secret, key hashes) and personal data. Receives pino's serialized error.
 */
export function serializeError(error: Record<string, unknown>): Record<string, unknown> {
  if (!error || typeof error !== 'object' || !('parameters' in error)) return error;
  const { parameters: _parameters, ...rest } = error;
  return rest;
}

/**
 * Called by pino-http when the request starts and again when it ends: at the end, the route
 * pattern and the caller (org, API key id or login subject) are known and added to the line.
 */
export function requestLogProps(request: IncomingMessage, response: ServerResponse): Record<string, string> {
  const props: Record<string, string> = {};
  if (!response.headersSent) return props;
  const route = routePattern(request);
  if (route) props.route = route;
  const principal = (request as IncomingMessage & { user?: Principal }).user;
  if (principal) {
    props.orgId = principal.orgId;
    if (principal.keyId) props.keyId = principal.keyId;
    if (principal.subject) props.subject = principal.subject;
  }
  return props;
}

export function requestLogLevel(request: IncomingMessage, response: ServerResponse, error?: Error): 'error' | 'warn' | 'info' | 'silent' {
  if (error || response.statusCode >= 500) {
    return QUIET_PATHS.has((request.url ?? '').split('?', 1)[0]) && response.statusCode === 503 ? 'warn' : 'error';
  }
  if (response.statusCode >= 400) return 'warn';
  return QUIET_PATHS.has((request.url ?? '').split('?', 1)[0]) ? 'silent' : 'info';
}

/**
 * The pino-pretty transport when pretty output is wanted and pino-pretty is installed (it is a
 * devDependency: a production image has none, and then logs JSON whatever LOG_FORMAT says).
 */
export function prettyTransport(
  wanted: boolean,
  resolve: (id: string) => string = require.resolve,
): { target: string; options: Record<string, unknown> } | undefined {
  if (!wanted) return undefined;
  try {
    resolve('pino-pretty');
  } catch {
    process.stderr.write('pretty logs requested but pino-pretty is not installed: logging JSON\n');
    return undefined;
  }
  return { target: 'pino-pretty', options: { singleLine: true } };
}
