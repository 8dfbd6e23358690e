import { AppConfig } from './app-config';
import { ConfigValidationError } from './environment';

describe('AppConfig.fromEnvironment', () => {
  it('applies the documented defaults', () => {
    const config = AppConfig.fromEnvironment({});
    expect(config.port).toBe(3000);
    expect(config.database.url).toBeUndefined();
    expect(config.auth.jwt).toBeUndefined();
    expect(config.auth.roleCapabilities.get('owner')).toEqual(['read', 'send', 'manage', 'admin']);
    expect(config.auth.roleCapabilities.get('admin')).toEqual(['read', 'send', 'manage', 'admin']);
    expect(config.auth.roleCapabilities.get('member')).toEqual(['read', 'send']);
    expect(config.auth.roleCapabilities.get('viewer')).toEqual(['read']);
    expect(config.auth.apiKeyCacheSeconds).toBeLessThanOrEqual(60);
  });

  it('reads the JWT settings with their claim defaults', () => {
    const config = AppConfig.fromEnvironment({
      AUTH_JWKS_URL: 'https://login.example.test/.well-known/jwks.json',
      AUTH_JWT_ISSUER: 'https://login.example.test/',
      AUTH_JWT_AUDIENCE: 'gateway',
    });
    expect(config.auth.jwt).toMatchObject({ orgClaim: 'org_id', roleClaim: 'role', algorithms: expect.arrayContaining(['RS256', 'ES256']) });
    expect(config.auth.jwt!.algorithms.some((alg) => alg.startsWith('HS') || alg === 'none')).toBe(false);
  });

  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      AppConfig.fromEnvironment(env);
    } catch (error) {
      if (error instanceof ConfigValidationError) return error.problems;
      throw error;
    }
    return [];
  };

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ AUTH_JWKS_URL: 'not a url', AUTH_JWT_ISSUER: 'i', AUTH_JWT_AUDIENCE: 'a' }, 'AUTH_JWKS_URL'],
    [{ AUTH_JWKS_URL: 'https://login.example.test/jwks' }, 'AUTH_JWT_ISSUER is required'],
    [{ AUTH_JWT_ALGORITHMS: 'RS256,HS256' }, 'AUTH_JWT_ALGORITHMS'],
    [{ AUTH_JWT_ALGORITHMS: 'none' }, 'AUTH_JWT_ALGORITHMS'],
    [{ AUTH_ROLE_CAPABILITIES: 'owner=*;member=read,fly' }, 'unknown capability fly'],
    [{ AUTH_API_KEY_CACHE_SECONDS: '3600' }, 'AUTH_API_KEY_CACHE_SECONDS'],
    [{ CURSOR_SECRET: 'short' }, 'CURSOR_SECRET must be at least 32 characters'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ])('%j fails at boot with a message naming the variable', (env, expected) => {
    const problems = problemsOf(env);
    expect(problems.join('\n')).toContain(expected);
  });

  it('reports every bad value at once and never echoes a secret', () => {
    const problems = problemsOf({ PORT: 'x', DATABASE_POOL_MAX: '0', CURSOR_SECRET: 'hunter2' });
    expect(problems.length).toBeGreaterThanOrEqual(3);
    expect(problems.join('\n')).not.toContain('hunter2');
  });
});
