import { Logger } from '@nestjs/common';
import { createPublicKey, KeyObject } from 'node:crypto';

export interface JwksKeyStoreOptions {
  jwksUrl: string;
  /** A key set younger than this is used as it is. */
  cacheSeconds: number;
  /** At most one refetch per this period for unknown `kid`s or after a failed fetch. */
  refetchCooldownSeconds: number;
  /** While the JWKS endpoint is down, the last good key set is kept this long after it was fetched. */
  maxStaleSeconds: number;
  timeoutMs: number;
}

interface SigningKey {
  kid?: string;
  alg?: string;
  key: KeyObject;
}

const MAX_JWKS_BYTES = 512 * 1024;
const SAFE_KID = /^[A-Za-z0-9._~+=:-]{1,256}$/;

/**
 * The login JWT verification keys, fetched from the configured JWKS URL only (never from a
 * token's `jku`, `x5u` or `jwk` header). Cached, refetched on an unknown `kid` at most once per
 * cooldown, refreshed in the background when old, and kept for a bounded time while the JWKS
 * endpoint is down.
 */
export class JwksKeyStore {
  private readonly logger = new Logger('Jwks');
  private keys: SigningKey[] = [];
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private inFlight?: Promise<void>;
  private fetchCount = 0;

  constructor(
    private readonly options: JwksKeyStoreOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** How many times the JWKS URL was requested (for tests and metrics). */
  get fetches(): number {
    return this.fetchCount;
  }

  /** The key that must have signed a token with this header, or undefined when there is none. */
  async keyFor(header: { kid?: unknown; alg?: unknown }): Promise<KeyObject | undefined> {
    if (header.kid !== undefined && (typeof header.kid !== 'string' || !SAFE_KID.test(header.kid))) return undefined;
    const kid = header.kid;
    const alg = typeof header.alg === 'string' ? header.alg : undefined;

    const age = this.now() - this.fetchedAt;
    if (age > this.options.maxStaleSeconds * 1000) {
      await this.refreshWithinCooldown();
    } else if (age > this.options.cacheSeconds * 1000) {
      void this.refreshWithinCooldown();
    }
    let key = this.find(kid, alg);
    if (!key && kid !== undefined) {
      await this.refreshWithinCooldown();
      key = this.find(kid, alg);
    }
    return key;
  }

  private find(kid: string | undefined, alg: string | undefined): KeyObject | undefined {
    if (this.now() - this.fetchedAt > this.options.maxStaleSeconds * 1000) return undefined;
    const candidates = kid === undefined ? this.keys : this.keys.filter((key) => key.kid === kid);
    const usable = candidates.filter((key) => key.alg === undefined || key.alg === alg);
    // A token without `kid` is only accepted when the set leaves no choice.
    return usable.length === 1 || (kid !== undefined && usable.length > 0) ? usable[0].key : undefined;
  }

  private refreshWithinCooldown(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.now() - this.lastAttemptAt < this.options.refetchCooldownSeconds * 1000) return Promise.resolve();
    this.lastAttemptAt = this.now();
    this.inFlight = this.fetchKeys().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchKeys(): Promise<void> {
    this.fetchCount++;
    try {
      const response = await fetch(this.options.jwksUrl, {
        redirect: 'error',
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      if (!response.ok) throw new Error(`JWKS endpoint answered ${response.status}`);
      const text = await response.text();
      if (text.length > MAX_JWKS_BYTES) throw new Error('JWKS document is too large');
      const keys = parseSigningKeys(JSON.parse(text));
      if (keys.length === 0) throw new Error('JWKS document holds no usable signing key');
      this.keys = keys;
      this.fetchedAt = this.now();
    } catch (error) {
      this.logger.warn(`JWKS fetch failed, keeping the last good key set: ${(error as Error).message}`);
    }
  }
}

function parseSigningKeys(document: unknown): SigningKey[] {
  const jwks = (document as { keys?: unknown })?.keys;
  if (!Array.isArray(jwks)) throw new Error('JWKS document has no keys array');
  const keys: SigningKey[] = [];
  for (const jwk of jwks as Record<string, unknown>[]) {
    if (typeof jwk !== 'object' || jwk === null) continue;
    if (!['RSA', 'EC'].includes(jwk.kty as string) || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
    try {
      const { d: _private, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicPart } = jwk;
      const key = createPublicKey({ key: publicPart as import('node:crypto').JsonWebKey, format: 'jwk' });
      keys.push({ kid: typeof jwk.kid === 'string' ? jwk.kid : undefined, alg: typeof jwk.alg === 'string' ? jwk.alg : undefined, key });
    } catch {
      // A key this runtime cannot import is skipped; the others stay usable.
    }
  }
  return keys;
}
