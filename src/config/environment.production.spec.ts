import { AppConfig } from './app-config';
import { ConfigValidationError, validateEnvironment } from './environment';

const problems = (env: Record<string, string>) => {
  try {
    validateEnvironment(env);
    return [];
  } catch (error) {
    return (error as ConfigValidationError).problems;
  }
};

describe('production settings', () => {
  it('has safe defaults', () => {
    const config = AppConfig.fromEnvironment({});
    expect(config.shutdown).toEqual({ delayMs: 5000, graceMs: 25_000 });
    expect(config.rateLimit).toMatchObject({ enabled: true, windowMs: 60_000, perCaller: 1200, perOrg: 6000 });
    expect(config.http).toEqual({ corsOrigins: undefined, trustProxy: false });
    expect(config.metrics).toEqual({ enabled: true, port: undefined });
    expect(config.redisUrl).toBeUndefined();
  });

  it('parses CORS_ORIGINS and TRUST_PROXY', () => {
    expect(AppConfig.fromEnvironment({ CORS_ORIGINS: 'https://a.example, https://b.example:8443' }).http.corsOrigins).toEqual([
      'https://a.example',
      'https://b.example:8443',
    ]);
    expect(AppConfig.fromEnvironment({ CORS_ORIGINS: '*' }).http.corsOrigins).toBe('*');
    expect(AppConfig.fromEnvironment({ TRUST_PROXY: 'true' }).http.trustProxy).toBe(true);
    expect(AppConfig.fromEnvironment({ TRUST_PROXY: '2' }).http.trustProxy).toBe(2);
    expect(AppConfig.fromEnvironment({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).http.trustProxy).toBe('loopback,10.0.0.0/8');
  });

  it('refuses a shutdown delay that does not leave room for draining, and METRICS_PORT equal to PORT', () => {
    expect(problems({ SHUTDOWN_DELAY_MS: '30000', SHUTDOWN_GRACE_MS: '25000' })).toEqual(['SHUTDOWN_DELAY_MS must be less than SHUTDOWN_GRACE_MS']);
    expect(problems({ PORT: '3000', METRICS_PORT: '3000' })).toEqual([expect.stringContaining('METRICS_PORT must differ from PORT')]);
  });

  it('refuses malformed values without echoing a secret', () => {
    const found = problems({ REDIS_URL: 'http://:hunter2@redis:6379', CORS_ORIGINS: 'app.example.com', RATE_LIMIT_PER_CALLER: '0' });
    expect(found).toHaveLength(3);
    expect(found.join('\n')).not.toContain('hunter2');
    expect(found.join('\n')).toContain('REDIS_URL must be a redis:// or rediss:// URL');
  });
});
