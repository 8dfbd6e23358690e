import type { Capability } from './capabilities';

/** Who is calling: resolved once per request by the authentication guard. */
export interface Principal {
  kind: 'user' | 'api_key';
  orgId: string;
  capabilities: ReadonlySet<Capability>;
  /** The JWT subject, for a login. */
  subject?: string;
  /** The API key's id, for a script. */
  keyId?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, set by the authentication guard; null on public routes and before authentication. */
    user: Principal | null;
  }
}
