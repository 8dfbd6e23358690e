import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { Principal } from '../auth/principal';
import { AppConfig } from '../config/app-config';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import type { WindowCount } from './rate-limit-store';
import { WindowCounter } from './window-counter';

export type RateLimitPolicyName = 'caller' | 'org';

export interface PolicyState {
  policy: RateLimitPolicyName;
  limit: number;
  remaining: number;
  resetInSeconds: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** One entry per policy, in the order caller, org. */
  states: PolicyState[];
  /** Present when refused: the policy that refused, and seconds until it admits again. */
  refusedBy?: PolicyState;
}

/**
 * Two fixed-window limits per request: one per caller (an API key, or a login user: org +
 * subject) and one per organization, counted by the WindowCounter (shared in Redis when REDIS_URL
 * is set, else per replica).
 */
@Injectable()
export class RateLimiter {
  private readonly settings: AppConfig['rateLimit'];
  /** Requests refused with 429, by the policy that refused them (`caller` or `org`). */
  readonly refusals: Counter<'policy'>;

  constructor(
    config: AppConfig,
    metrics: GatewayMetrics,
    private readonly counter: WindowCounter,
  ) {
    this.settings = config.rateLimit;
    this.refusals = new Counter({
      name: 'gateway_rate_limited_requests_total',
      help: 'Requests refused with 429 rate_limited, by policy.',
      labelNames: ['policy'] as const,
      registers: [metrics.registry],
    });
  }

  get enabled(): boolean {
    return this.settings.enabled;
  }

  /** `RateLimit-Policy` value: both policies, quota and window in seconds. */
  get policyHeader(): string {
    const window = Math.ceil(this.settings.windowMs / 1000);
    return `"caller";q=${this.settings.perCaller};w=${window}, "org";q=${this.settings.perOrg};w=${window}`;
  }

  /** Counts one request of `principal`. Synchronous without Redis (no promise on the hot path). */
  check(principal: Principal): RateLimitDecision | Promise<RateLimitDecision> {
    const counts = this.counter.hit([callerKey(principal), `o:${principal.orgId}`], this.settings.windowMs);
    return counts instanceof Promise ? counts.then((c) => this.decide(c)) : this.decide(counts);
  }

  private decide([caller, org]: WindowCount[]): RateLimitDecision {
    const counts = [caller, org];
    const states: PolicyState[] = [state('caller', this.settings.perCaller, caller), state('org', this.settings.perOrg, org)];
    const exceeded = states.filter((policy, index) => counts[index].count > policy.limit);
    if (exceeded.length === 0) return { allowed: true, states };
    const refusedBy = exceeded.reduce((longest, current) => (current.resetInSeconds > longest.resetInSeconds ? current : longest));
    this.refusals.inc({ policy: refusedBy.policy });
    return { allowed: false, states, refusedBy };
  }
}

function state(policy: RateLimitPolicyName, limit: number, count: WindowCount): PolicyState {
  return { policy, limit, remaining: Math.max(0, limit - count.count), resetInSeconds: Math.max(1, Math.ceil(count.resetInMs / 1000)) };
}

/**
 * An API key by its id; a login user by org and subject (the same person in two orgs is two
 * callers); a login without a subject by its token, never one bucket for all such logins of an org.
 */
export function callerKey(principal: Principal): string {
  if (principal.kind === 'api_key') return `k:${principal.keyId}`;
  return principal.subject !== undefined ? `u:${principal.orgId}:${principal.subject}` : `t:${principal.orgId}:${principal.tokenId ?? ''}`;
}

/** `RateLimit` value: what remains of each policy and when it resets. */
export function rateLimitHeader(states: readonly PolicyState[]): string {
  return states.map((s) => `"${s.policy}";r=${s.remaining};t=${s.resetInSeconds}`).join(', ');
}
