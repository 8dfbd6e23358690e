import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export { REQUEST_ID_HEADER } from '../common/http/request-id-header';
const ACCEPTABLE_INCOMING_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request id: the caller's `X-Request-Id` when it is a sane token, else a fresh UUID. It is
 * echoed on the response, so a client can quote it and an operator can find the log line.
 */
export function requestIdFor(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && ACCEPTABLE_INCOMING_ID.test(incoming) ? incoming : randomUUID();
}
