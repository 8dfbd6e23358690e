import { createHash } from 'node:crypto';
import type { AuthenticatedRequest } from '../authenticated-request';
import { ExtractJwt, Strategy as JwtStrategy, StrategyOptionsWithoutRequest } from 'passport-jwt';
import type { AppConfig } from '../../config/app-config';
import type { Capability } from '../../common/capabilities';
import type { Principal } from '../principal';
import type { TokenAuthenticator } from '../token-authenticator';
import { runStrategy } from '../run-strategy';
import { JwksKeyStore } from './jwks-key-store';

type JwtSettings = NonNullable<AppConfig['auth']['jwt']>;
const MAX_ORG_ID_LENGTH = 128;

/**
 * Login JWTs minted by the frontend, verified by passport-jwt (jsonwebtoken) against the JWKS
 * keys: algorithms pinned to the configured asymmetric ones, issuer, audience, expiry and
 * not-before checked with a small clock tolerance. Org and role come from the configured claims.
 */
export class JwtAuthenticator implements TokenAuthenticator {
  readonly keys: JwksKeyStore;
  private readonly strategy: JwtStrategy;

  constructor(
    private readonly settings: JwtSettings,
    private readonly roleCapabilities: ReadonlyMap<string, readonly Capability[]>,
  ) {
    this.keys = new JwksKeyStore({
      jwksUrl: settings.jwksUrl,
      cacheSeconds: settings.jwksCacheSeconds,
      refetchCooldownSeconds: settings.jwksRefetchCooldownSeconds,
      maxStaleSeconds: settings.jwksMaxStaleSeconds,
      timeoutMs: settings.jwksTimeoutMs,
    });
    const options: StrategyOptionsWithoutRequest = {
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: (_request, rawToken, done) => {
        const header = decodeHeader(String(rawToken));
        if (!header) return done(new Error('not a JWT'));
        this.keys.keyFor(header).then(
          (key) => (key ? done(null, key as unknown as string) : done(new Error('no key for this token'))),
          (error) => done(error),
        );
      },
      issuer: settings.issuer,
      audience: settings.audience,
      algorithms: settings.algorithms as StrategyOptionsWithoutRequest['algorithms'],
      jsonWebTokenOptions: { clockTolerance: settings.clockToleranceSeconds },
    };
    this.strategy = new JwtStrategy(options, (payload: Record<string, unknown>, done: (error: null, user: Principal | false) => void) =>
      done(null, this.principalFrom(payload) ?? false),
    );
  }

  canHandle(token: string): boolean {
    return token.split('.').length === 3;
  }

  authenticate(_token: string, request: AuthenticatedRequest): Promise<Principal | null> {
    return runStrategy<Principal>(this.strategy, request);
  }

  private principalFrom(payload: Record<string, unknown>): Principal | undefined {
    const orgId = payload[this.settings.orgClaim];
    if (typeof payload.exp !== 'number') return undefined;
    if (typeof orgId !== 'string' || orgId.length === 0 || orgId.length > MAX_ORG_ID_LENGTH) return undefined;
    const rawRoles = payload[this.settings.roleClaim];
    const roles = Array.isArray(rawRoles) ? rawRoles : [rawRoles];
    const capabilities = new Set<Capability>();
    for (const role of roles) {
      if (typeof role === 'string') this.roleCapabilities.get(role)?.forEach((capability) => capabilities.add(capability));
    }
    if (typeof payload.sub === 'string' && payload.sub !== '') return { kind: 'user', orgId, capabilities, subject: payload.sub };
    return { kind: 'user', orgId, capabilities, tokenId: createHash('sha256').update(JSON.stringify(payload)).digest('base64url').slice(0, 22) };
  }
}

function decodeHeader(token: string): Record<string, unknown> | undefined {
  const [encodedHeader] = token.split('.');
  try {
    const header: unknown = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && !Array.isArray(header) ? (header as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
