import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const REQUEST_ID_HEADER = 'X-Request-Id';
const ACCEPTABLE_INCOMING_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Picks the request id (the caller's `X-Request-Id` when it is a sane token, else a fresh UUID)
 * and echoes it on the response, so a client can quote it and an operator can find the log line.
 */
export function assignRequestId(request: IncomingMessage & { id?: unknown }, response: ServerResponse): string {
  if (typeof request.id === 'string') return request.id;
  const incoming = request.headers['x-request-id'];
  const id = typeof incoming === 'string' && ACCEPTABLE_INCOMING_ID.test(incoming) ? incoming : randomUUID();
  response.setHeader(REQUEST_ID_HEADER, id);
  request.id = id;
  return id;
}

/** Runs first, before body parsing, so even a request rejected by the body parser carries its id. */
export function requestIdMiddleware(request: IncomingMessage, response: ServerResponse, next: () => void): void {
  assignRequestId(request, response);
  next();
}
