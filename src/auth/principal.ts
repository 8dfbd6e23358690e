import type { Capability } from '../common/capabilities';

/** Who is calling: resolved once per request by the authentication guard. */
export interface Principal {
  kind: 'user' | 'api_key';
  orgId: string;
  capabilities: ReadonlySet<Capability>;
  /** The JWT subject, for a login. */
  subject?: string;
  /**
   * For a login JWT without `sub`: a digest of its claims, so that each such token is a caller of
   * its own (for rate limits), not one caller shared by every sub-less token of the org.
   */
  tokenId?: string;
  /** The API key's id, for a script. */
  keyId?: string;
}
