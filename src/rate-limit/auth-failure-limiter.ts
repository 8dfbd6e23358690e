import { Injectable } from '@nestjs/common';
import { isIPv6 } from 'node:net';
import type { AuthFailureLimit } from '../auth/auth-failure-limit';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import type { WindowCount } from './rate-limit-store';
import { WindowCounter } from './window-counter';

/** Refused addresses remembered at most; beyond, the oldest goes (a flood of addresses cannot grow memory without bound). */
const MAX_REFUSED_ADDRESSES = 50_000;
const POLICY = 'auth_failures';

/**
 * Failed authentication, per client address: after AUTH_FAILURES_PER_ADDRESS 401s within
 * AUTH_FAILURE_WINDOW_SECONDS, the address gets 429 `rate_limited` before any token is looked at
 * (no database query, no cache entry) until the window ends. The address is the platform's
 * `request.ip`, which honours TRUST_PROXY: with a hop count or the proxies' subnets it is the
 * client's, with `true` it is whatever the leftmost X-Forwarded-For says (forgeable). An IPv6
 * client is counted by its /64, the block one client usually holds.
 *
 * Failures are counted by the WindowCounter: in Redis when REDIS_URL is set, so an address's
 * failures on every replica add up to one limit. The check itself reads only this replica's
 * memory of refused addresses, so an admitted request costs no round trip: a replica learns that
 * an address is out of failures at the address's next failure there, so spread over N replicas an
 * address gets at most N - 1 attempts more than the limit.
 */
@Injectable()
export class AuthFailureLimiter implements AuthFailureLimit {
  /** Address key → when its window ends (ms), for the addresses that have used up their failures. */
  private readonly refused = new Map<string, number>();
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly policyHeader: string;

  constructor(
    config: AppConfig,
    private readonly counter: WindowCounter,
    private readonly now: () => number = Date.now,
  ) {
    this.limit = config.auth.failuresPerAddress;
    this.windowMs = config.auth.failureWindowSeconds * 1000;
    this.policyHeader = `"${POLICY}";q=${this.limit};w=${config.auth.failureWindowSeconds}`;
  }

  checkAllowed(address: string): void {
    if (this.limit === 0 || this.refused.size === 0) return;
    const key = addressKey(address);
    const resetAt = this.refused.get(key);
    if (resetAt === undefined) return;
    const now = this.now();
    if (resetAt <= now) {
      this.refused.delete(key);
      return;
    }
    const retryAfter = Math.max(1, Math.ceil((resetAt - now) / 1000));
    throw new AppError(
      'rate_limited',
      'too many failed authentication attempts from this address',
      { policy: POLICY, limit: this.limit, retryAfterSeconds: retryAfter },
      { 'Retry-After': String(retryAfter), 'RateLimit-Policy': this.policyHeader, RateLimit: `"${POLICY}";r=0;t=${retryAfter}` },
    );
  }

  recordFailure(address: string): Promise<void> | void {
    if (this.limit === 0) return;
    const key = addressKey(address);
    const counts = this.counter.hit([`a:${key}`], this.windowMs);
    return counts instanceof Promise ? counts.then(([count]) => this.remember(key, count)) : this.remember(key, counts[0]);
  }

  private remember(key: string, { count, resetInMs }: WindowCount): void {
    if (count < this.limit) return;
    if (!this.refused.delete(key) && this.refused.size >= MAX_REFUSED_ADDRESSES) this.refused.delete(this.refused.keys().next().value!);
    this.refused.set(key, this.now() + resetInMs);
  }
}

/** An IPv4 address as it is; an IPv6 one by its /64 prefix (an IPv4-mapped one as its IPv4 address). */
export function addressKey(address: string): string {
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!isIPv6(address)) return address;
  const [head, tail = ''] = address.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups] : headGroups;
  return `${groups
    .slice(0, 4)
    .map((group) => group.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
