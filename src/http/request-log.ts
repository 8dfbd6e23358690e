import type pino from 'pino';
import { directLineWriter, jsonNumber, jsonString, LineWriter } from '../common/logging/direct-line-writer';
import type { RequestObserver, RequestOutcome } from './request-observer';

/** Paths polled by Kubernetes and Prometheus: logged only when they fail. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

type RequestLogLevel = 'error' | 'warn' | 'info' | 'silent';

/**
 * One JSON line per request, written once the response is sent (or the client went away): request
 * id, method, path (without the query string), client address (X-Forwarded-For when TRUST_PROXY
 * allows), route pattern, status, duration and the caller (org, API key id or login subject).
 * Never headers, so never a token or an API key. No child logger per request: one line, written
 * through the root logger's destination.
 */
export class RequestLog implements RequestObserver {
  private readonly writeLine: LineWriter;

  constructor(private readonly logger: pino.Logger) {
    this.writeLine = directLineWriter(logger);
  }

  observe(outcome: RequestOutcome): void {
    if (outcome.statusCode === undefined) {
      if (this.logger.isLevelEnabled('warn')) this.writeLine('warn', requestLogFields(outcome), 'request aborted by the client');
      return;
    }
    const level = requestLogLevel(outcome.path, outcome.statusCode);
    if (level !== 'silent' && this.logger.isLevelEnabled(level)) this.writeLine(level, requestLogFields(outcome), 'request completed');
  }
}

/** The request log line's fields, serialized: `"req":{...},"route":...,"res":{...},"durationMs":...,"orgId":...`. */
export function requestLogFields(outcome: RequestOutcome): string {
  let fields = `"req":{"id":${jsonString(outcome.id)},"method":${jsonString(outcome.method)},"path":${jsonString(outcome.path)},"ip":${jsonString(outcome.ip)}}`;
  if (outcome.route) fields += `,"route":${jsonString(outcome.route)}`;
  if (outcome.statusCode !== undefined) {
    fields += `,"res":{"statusCode":${jsonNumber(outcome.statusCode)}},"durationMs":${jsonNumber(Math.round((outcome.durationMs ?? 0) * 1000) / 1000)}`;
  }
  const principal = outcome.user;
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
