import type { Principal } from '../auth/principal';

/**
 * What the HTTP platform reports about one request once it is over, the same on every platform.
 * The platform builds one per request and hands it to every observer (request log, metrics).
 */
export interface RequestOutcome {
  /** The request id (X-Request-Id). */
  readonly id: string;
  readonly method: string;
  /** The request path, without the query string (which is the caller's business). */
  readonly path: string;
  /** The client address (X-Forwarded-For when TRUST_PROXY allows); undefined once the socket is gone. */
  readonly ip: string | undefined;
  /** The route pattern the request matched (e.g. `/api/v1/sessions/:session/chats`); undefined for none. */
  readonly route: string | undefined;
  /** The caller, when authentication resolved one. */
  readonly user: Principal | null;
  /** The response's status; undefined when the client went away before the response was sent. */
  readonly statusCode: number | undefined;
  /** Milliseconds from the request's arrival to its response; undefined with `statusCode`. */
  readonly durationMs: number | undefined;
}

/** Told about every request once: when its response has been sent, or when its client went away first. */
export interface RequestObserver {
  observe(outcome: RequestOutcome): void;
}

/** The path of a request target: everything before the query string. */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
