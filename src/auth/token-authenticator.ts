import type { AuthenticatedRequest } from './authenticated-request';
import type { Principal } from './principal';

/** One kind of bearer token the router accepts. */
export interface TokenAuthenticator {
  /** Cheap shape check: could this token be of my kind at all? */
  canHandle(token: string): boolean;
  /** The caller, or null when the token is not valid. */
  authenticate(token: string, request: AuthenticatedRequest): Promise<Principal | null>;
}

export const TOKEN_AUTHENTICATORS = Symbol('TOKEN_AUTHENTICATORS');
