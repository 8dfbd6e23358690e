import type { Principal } from './principal';

/**
 * The little of an HTTP request authentication reads and writes: its headers, the client address,
 * and the caller it resolved. Every HTTP platform's request has them (src/http/ sets `user` to
 * null on arrival; `ip` follows TRUST_PROXY on both).
 */
export interface AuthenticatedRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>> & { authorization?: string };
  /** The client address (X-Forwarded-For as TRUST_PROXY allows). */
  readonly ip: string;
  /** The caller, set by the authentication guard; null on public routes and before authentication. */
  user: Principal | null;
}
