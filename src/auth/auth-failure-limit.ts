/**
 * What the authentication guard needs from the limit on failed authentications (implemented in
 * rate-limit/, which counts them with the other limits, shared across replicas): whether a client
 * address may try at all, and counting a failure.
 */
export interface AuthFailureLimit {
  /** Throws 429 `rate_limited` when `address` has used up its failures for now. */
  checkAllowed(address: string): void;
  /** Counts one failed authentication of `address`. */
  recordFailure(address: string): Promise<void> | void;
}

export const AUTH_FAILURE_LIMIT = Symbol('AUTH_FAILURE_LIMIT');
