import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type pino from 'pino';
import { routePattern } from '../http/route-pattern';
import { directLineWriter, jsonNumber, jsonString } from './direct-line-writer';

/** Paths polled by Kubernetes and Prometheus: logged only when they fail. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

type RequestLogLevel = 'error' | 'warn' | 'info' | 'silent';

/**
 * One JSON line per request, written once the response is sent: request id, method, path (without
 * the query string, which is the caller's business), client address (X-Forwarded-For when
 * TRUST_PROXY allows), route pattern, status, duration and the caller (org, API key id or login
 * subject). Never headers, so never a token or an API key.
 */
export function installRequestLog(fastify: FastifyInstance, logger: pino.Logger): void {
  const writeLine = directLineWriter(logger);
  fastify.addHook('onResponse', (request, reply, done) => {
    const path = pathOf(request.url);
    const level = requestLogLevel(path, reply.statusCode);
    if (level !== 'silent' && logger.isLevelEnabled(level)) writeLine(level, requestLogFields(request, reply, path), 'request completed');
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    if (logger.isLevelEnabled('warn')) writeLine('warn', requestLogFields(request, undefined, pathOf(request.url)), 'request aborted by the client');
    done();
  });
}

/** The request log line's fields, serialized: `"req":{...},"route":...,"res":{...},"durationMs":...,"orgId":...`. */
export function requestLogFields(request: FastifyRequest, reply: FastifyReply | undefined, path: string): string {
  let fields =
    `"req":{"id":${jsonString(request.id)},"method":${jsonString(request.method)},"path":${jsonString(path)},"ip":${jsonString(request.ip)}}`;
  const route = routePattern(request);
  if (route) fields += `,"route":${jsonString(route)}`;
  if (reply) fields += `,"res":{"statusCode":${jsonNumber(reply.statusCode)}},"durationMs":${jsonNumber(Math.round(reply.elapsedTime * 1000) / 1000)}`;
  const principal = request.user;
  if (principal) {
    fields += `,"orgId":${jsonString(principal.orgId)}`;
    if (principal.keyId) fields += `,"keyId":${jsonString(principal.keyId)}`;
    if (principal.subject) fields += `,"subject":${jsonString(principal.subject)}`;
  }
  return fields;
}

export function requestLogLevel(path: string, statusCode: number): RequestLogLevel {
  if (statusCode >= 500) return QUIET_PATHS.has(path) && statusCode === 503 ? 'warn' : 'error';
  if (statusCode >= 400) return 'warn';
  return QUIET_PATHS.has(path) ? 'silent' : 'info';
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
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
