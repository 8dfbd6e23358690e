import { AppConfig } from '../config/app-config';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { addressKey, AuthFailureLimiter } from './auth-failure-limiter';
import { WindowCounter } from './window-counter';

describe('AuthFailureLimiter', () => {
  const config = AppConfig.fromEnvironment({ AUTH_FAILURES_PER_ADDRESS: '2', AUTH_FAILURE_WINDOW_SECONDS: '10', REDIS_URL: '' });

  it('refuses an address after its failures, until its window ends; other addresses are not affected', () => {
    let now = 1_000_000;
    const limiter = new AuthFailureLimiter(config, new WindowCounter(config, new GatewayMetrics()), () => now);
    void limiter.recordFailure('192.0.2.1');
    limiter.checkAllowed('192.0.2.1');
    void limiter.recordFailure('192.0.2.1');
    expect(() => limiter.checkAllowed('192.0.2.1')).toThrow(
      expect.objectContaining({ code: 'rate_limited', headers: expect.objectContaining({ 'Retry-After': '10' }) }),
    );
    limiter.checkAllowed('192.0.2.2');
    now += 10_000;
    limiter.checkAllowed('192.0.2.1');
  });

  it('keys IPv6 by /64 and IPv4-mapped addresses as IPv4', () => {
    expect(addressKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:0:0:9')).toBe('2001:db8:1:2::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
  });
});
