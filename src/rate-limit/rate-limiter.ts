import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { AppConfig } from '../config/app-config';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { MemoryRateLimitStore, WindowCount } from './rate-limit-store';
import { RedisRateLimitStore } from './redis-rate-limit-store';

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

const REDIS_CONNECT_WAIT_MS = 2000;
const FALLBACK_WARNING_INTERVAL_MS = 30_000;

/**
 * Two fixed-window limits per request: one per caller (an API key, or a login user: org +
 * subject) and one per organization. Counted in Redis when REDIS_URL is set (one round trip),
 * else in memory. When Redis fails, the request is counted in memory instead (fail open, per
 * replica), and a warning is logged at most every 30 s.
 */
@Injectable()
export class RateLimiter implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimit');
  private readonly memory = new MemoryRateLimitStore();
  private readonly redis?: RedisRateLimitStore;
  private readonly settings: AppConfig['rateLimit'];
  private lastFallbackWarning = 0;

  constructor(
    config: AppConfig,
    private readonly metrics: GatewayMetrics,
  ) {
    this.settings = config.rateLimit;
    if (config.rateLimit.enabled && config.redisUrl) {
      this.redis = new RedisRateLimitStore(config.redisUrl, config.rateLimit.redisPrefix, config.rateLimit.redisTimeoutMs);
    }
  }

  get enabled(): boolean {
    return this.settings.enabled;
  }

  /** `RateLimit-Policy` value: both policies, quota and window in seconds. */
  get policyHeader(): string {
    const window = Math.ceil(this.settings.windowMs / 1000);
    return `"caller";q=${this.settings.perCaller};w=${window}, "org";q=${this.settings.perOrg};w=${window}`;
  }

  async onModuleInit(): Promise<void> {
    if (!this.redis) return;
    if (!(await this.redis.connect(REDIS_CONNECT_WAIT_MS))) {
      this.logger.warn('Redis is not reachable at startup; counting rate limits in memory until it is');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis?.close();
  }

  /** Counts one request of `principal`. Synchronous without Redis (no promise on the hot path). */
  check(principal: Principal): RateLimitDecision | Promise<RateLimitDecision> {
    const keys = [callerKey(principal), `o:${principal.orgId}`];
    if (!this.redis) return this.decide(this.memory.hit(keys, this.settings.windowMs));
    return this.redis.hit(keys, this.settings.windowMs).then(
      (counts) => this.decide(counts),
      (error: Error) => {
        this.metrics.rateLimitStoreErrors.inc();
        const now = Date.now();
        if (now - this.lastFallbackWarning > FALLBACK_WARNING_INTERVAL_MS) {
          this.lastFallbackWarning = now;
          this.logger.warn(`Redis rate-limit check failed (${error.message}); counting in memory meanwhile`);
        }
        return this.decide(this.memory.hit(keys, this.settings.windowMs));
      },
    );
  }

  private decide([caller, org]: WindowCount[]): RateLimitDecision {
    const counts = [caller, org];
    const states: PolicyState[] = [state('caller', this.settings.perCaller, caller), state('org', this.settings.perOrg, org)];
    const exceeded = states.filter((policy, index) => counts[index].count > policy.limit);
    if (exceeded.length === 0) return { allowed: true, states };
    const refusedBy = exceeded.reduce((longest, current) => (current.resetInSeconds > longest.resetInSeconds ? current : longest));
    this.metrics.rateLimited.inc({ policy: refusedBy.policy });
    return { allowed: false, states, refusedBy };
  }
}

function state(policy: RateLimitPolicyName, limit: number, count: WindowCount): PolicyState {
  return { policy, limit, remaining: Math.max(0, limit - count.count), resetInSeconds: Math.max(1, Math.ceil(count.resetInMs / 1000)) };
}

/** An API key by its id; a login user by org and subject (the same person in two orgs is two callers). */
export function callerKey(principal: Principal): string {
  return principal.kind === 'api_key' ? `k:${principal.keyId}` : `u:${principal.orgId}:${principal.subject ?? ''}`;
}

/** `RateLimit` value: what remains of each policy and when it resets. */
export function rateLimitHeader(states: readonly PolicyState[]): string {
  return states.map((s) => `"${s.policy}";r=${s.remaining};t=${s.resetInSeconds}`).join(', ');
}
