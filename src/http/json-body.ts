import secureJson from 'secure-json-parse';
import { AppError } from '../common/errors/app-error';

/** The largest request body the gateway reads; a bigger one is 413 `payload_too_large`. */
export const MAX_JSON_BODY_BYTES = 256 * 1024;

/**
 * How deep a JSON body may nest (each array or object is one level). No request body of the API
 * comes near it; a hostile body nested thousands deep would otherwise overflow the stack of
 * whatever walks it next (class-transformer, the validation pipe) and end as a 500.
 */
export const MAX_JSON_DEPTH = 32;

/** Methods whose requests carry no body (the rest may): the same on every platform. */
const BODYLESS_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'TRACE']);

/**
 * Whether a request has a body to read: a method that may carry one, and a body announced by
 * `Transfer-Encoding` or a non-zero `Content-Length`. Clients send `Content-Type:
 * application/json` on a bodiless DELETE or POST; that is no body.
 */
export function hasRequestBody(method: string, headers: { 'content-length'?: string; 'transfer-encoding'?: string }): boolean {
  if (BODYLESS_METHODS.has(method)) return false;
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Whether a `Content-Type` names JSON (`application/json`, any case, any parameters). */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const end = contentType.indexOf(';');
  return (end === -1 ? contentType : contentType.slice(0, end)).trim().toLowerCase() === 'application/json';
}

/**
 * Whether a `Content-Type` names a multipart form (`multipart/form-data`, any case, with its
 * boundary): neither platform reads such a body; the route that takes one streams it
 * (streamed-body.ts), any other answers as for a missing body.
 */
export function isMultipartContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const end = contentType.indexOf(';');
  return (end === -1 ? contentType : contentType.slice(0, end)).trim().toLowerCase() === 'multipart/form-data';
}

/**
 * A JSON request body's value: prototype poisoning (`__proto__`, `constructor.prototype`) is
 * refused, as is nesting deeper than MAX_JSON_DEPTH; an empty body is no body (undefined).
 */
export function parseJsonBody(text: string): unknown {
  if (text === '') return undefined;
  let value: unknown;
  try {
    value = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    throw invalidJsonBody();
  }
  if (nestedDeeperThan(value, MAX_JSON_DEPTH)) {
    throw AppError.invalidArgument(`request body is nested too deeply: at most ${MAX_JSON_DEPTH} levels of arrays and objects`, { parameter: 'body' });
  }
  return value;
}

/** Whether `value` has arrays or objects nested more than `limit` deep. Recurses at most `limit` + 1 frames. */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (nestedDeeperThan(item, limit - 1)) return true;
    return false;
  }
  for (const key in value) if (nestedDeeperThan((value as Record<string, unknown>)[key], limit - 1)) return true;
  return false;
}

export function invalidJsonBody(): AppError {
  return AppError.invalidArgument('request body is not valid JSON', { parameter: 'body' });
}

export function payloadTooLarge(): AppError {
  return new AppError('payload_too_large', 'request body is too large');
}

export function unsupportedContentType(): AppError {
  return AppError.invalidArgument('unsupported content type: send application/json', { parameter: 'body' });
}

/** An undecodable path (bad percent-encoding) names no resource. */
export function routeNotFound(): AppError {
  return new AppError('not_found', 'route not found');
}

/**
 * A framework's own refusal of a body, seen by the error filter as an HttpException status
 * (Fastify refuses an oversized body with 413 and a content type no parser takes with 415): its
 * API error, or undefined for any other status.
 */
export function refusedBodyError(status: number): AppError | undefined {
  if (status === 413) return payloadTooLarge();
  if (status === 415) return unsupportedContentType();
  return undefined;
}
