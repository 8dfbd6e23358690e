import type { Principal } from '../auth/principal';
import { AppConfig } from '../config/app-config';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { callerKey, RateLimitDecision, rateLimitHeader, RateLimiter } from './rate-limiter';
import { WindowCounter } from './window-counter';

const config = (env: Record<string, string> = {}) => AppConfig.fromEnvironment({ RATE_LIMIT_PER_CALLER: '2', RATE_LIMIT_PER_ORG: '3', ...env });
const metrics = () => new GatewayMetrics();
const limiterOf = (appConfig: AppConfig, gatewayMetrics = metrics()) =>
  new RateLimiter(appConfig, gatewayMetrics, new WindowCounter(appConfig, gatewayMetrics));
const key = (orgId: string, keyId: string): Principal => ({ kind: 'api_key', orgId, keyId, capabilities: new Set(['read']) });
const user = (orgId: string, subject: string): Principal => ({ kind: 'user', orgId, subject, capabilities: new Set(['read']) });

describe('RateLimiter (in memory)', () => {
  it('refuses a caller past its limit, then the org past the org limit, naming the policy', () => {
    const limiter = limiterOf(config());
    const decisions = [key('o', 'k1'), key('o', 'k1'), key('o', 'k1')].map((p) => limiter.check(p) as RateLimitDecision);
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, false]);
    expect(decisions[2].refusedBy).toMatchObject({ policy: 'caller', limit: 2, remaining: 0 });
    // k1 used 3 of the org's 3: another key of the org is refused by the org policy.
    const other = limiter.check(key('o', 'k2')) as RateLimitDecision;
    expect(other.allowed).toBe(false);
    expect(other.refusedBy?.policy).toBe('org');
    // Another org is untouched.
    expect((limiter.check(key('p', 'k3')) as RateLimitDecision).allowed).toBe(true);
  });

  it('counts a login user by org and subject', () => {
    expect(callerKey(user('o', 'alice'))).toBe('u:o:alice');
    expect(callerKey(user('p', 'alice'))).not.toBe(callerKey(user('o', 'alice')));
    expect(callerKey(key('o', '01J'))).toBe('k:01J');
  });

  it('is synchronous without Redis (no promise on the hot path)', () => {
    const limiter = limiterOf(config());
    expect(limiter.check(key('o', 'k'))).not.toBeInstanceOf(Promise);
  });

  it('counts refusals in the metrics by policy', async () => {
    const gatewayMetrics = metrics();
    const limiter = limiterOf(config(), gatewayMetrics);
    for (let i = 0; i < 3; i++) void limiter.check(key('o', 'k'));
    expect((await limiter.refusals.get()).values).toEqual([{ labels: { policy: 'caller' }, value: 1 }]);
    expect(await gatewayMetrics.registry.metrics()).toContain('gateway_rate_limited_requests_total{policy="caller"} 1');
  });
});

describe('RateLimit headers', () => {
  it('formats the policy and the remaining quota as structured fields', () => {
    const limiter = limiterOf(config({ RATE_LIMIT_WINDOW_MS: '90000' }));
    expect(limiter.policyHeader).toBe('"caller";q=2;w=90, "org";q=3;w=90');
    expect(
      rateLimitHeader([
        { policy: 'caller', limit: 2, remaining: 1, resetInSeconds: 30 },
        { policy: 'org', limit: 3, remaining: 2, resetInSeconds: 30 },
      ]),
    ).toBe('"caller";r=1;t=30, "org";r=2;t=30');
  });
});
