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
    expect(config.http).toEqual({ corsOrigins: undefined, trustProxy: false, platform: 'express' });
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

  it('runs on Express unless HTTP_PLATFORM names Fastify, and refuses any other platform', () => {
    expect(AppConfig.fromEnvironment({ HTTP_PLATFORM: 'fastify' }).http.platform).toBe('fastify');
    expect(AppConfig.fromEnvironment({ HTTP_PLATFORM: 'express' }).http.platform).toBe('express');
    expect(problems({ HTTP_PLATFORM: 'koa' })).toEqual(['HTTP_PLATFORM must be one of: express, fastify (got "koa")']);
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

  it('trusts a WhatsApp simulator root only outside production', () => {
    const key = 'ab'.repeat(32);
    expect(AppConfig.fromEnvironment({}).whatsapp.simulatorRootKey).toBeUndefined();
    expect(AppConfig.fromEnvironment({ WHATSAPP_SIMULATOR_ROOT_KEY: key }).whatsapp.simulatorRootKey).toEqual(Buffer.alloc(32, 0xab));
    expect(problems({ WHATSAPP_SIMULATOR_ROOT_KEY: key, NODE_ENV: 'production' })).toEqual([
      'WHATSAPP_SIMULATOR_ROOT_KEY is for tests and the demo only: it must not be set with NODE_ENV=production',
    ]);
    expect(problems({ WHATSAPP_SIMULATOR_ROOT_KEY: 'not-hex' })).toEqual([expect.stringContaining('must be 64 hex digits')]);
  });
});

describe("the server's secrets with NODE_ENV=production", () => {
  const serverProblems = (env: Record<string, string>) => {
    try {
      AppConfig.forServer(env);
      return [];
    } catch (error) {
      return (error as ConfigValidationError).problems;
    }
  };
  const key = 'ab'.repeat(32);
  const cursor = 'c'.repeat(40);

  it('refuses to start without CREDENTIALS_ENCRYPTION_KEY or CURSOR_SECRET, naming each variable', () => {
    const found = serverProblems({ NODE_ENV: 'production' });
    expect(found).toEqual([
      expect.stringMatching(/^CREDENTIALS_ENCRYPTION_KEY is required with NODE_ENV=production/),
      expect.stringMatching(/^CURSOR_SECRET is required with NODE_ENV=production/),
    ]);
    expect(found.join('\n')).toContain('ALLOW_SECRETS_IN_DATABASE=true');
    expect(serverProblems({ NODE_ENV: 'production', CREDENTIALS_ENCRYPTION_KEY: '', CURSOR_SECRET: cursor })).toEqual([
      expect.stringMatching(/^CREDENTIALS_ENCRYPTION_KEY is required/),
    ]);
    expect(serverProblems({ NODE_ENV: 'production', CREDENTIALS_ENCRYPTION_KEY: key })).toEqual([expect.stringMatching(/^CURSOR_SECRET is required/)]);
  });

  it('starts with both set, with the explicit opt-out, or outside production', () => {
    expect(serverProblems({ NODE_ENV: 'production', CREDENTIALS_ENCRYPTION_KEY: key, CURSOR_SECRET: cursor })).toEqual([]);
    expect(serverProblems({ NODE_ENV: 'production', ALLOW_SECRETS_IN_DATABASE: 'true' })).toEqual([]);
    expect(serverProblems({ NODE_ENV: 'development' })).toEqual([]);
    expect(serverProblems({})).toEqual([]);
  });

  it('leaves the migration Job and the CLI (fromEnvironment) alone: they use neither secret', () => {
    expect(() => AppConfig.fromEnvironment({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/gateway' })).not.toThrow();
  });

  it('refuses an example placeholder in any secret, whatever its shape', () => {
    const found = problems({ CURSOR_SECRET: 'REPLACE_ME_WITH_AT_LEAST_32_RANDOM_CHARACTERS', DATABASE_URL: 'postgres://gateway:CHANGE_ME@db/gateway' });
    expect(found).toEqual([
      'DATABASE_URL still holds an example placeholder; set a real value',
      'CURSOR_SECRET still holds an example placeholder; set a real value',
    ]);
  });
});

describe('AUTH_JWKS_URL', () => {
  const withJwks = (url: string) => problems({ AUTH_JWKS_URL: url, AUTH_JWT_ISSUER: 'https://login.example.test/', AUTH_JWT_AUDIENCE: 'gateway' });

  it('requires https for any host but loopback', () => {
    for (const url of ['http://login.example.test/jwks.json', 'http://10.0.0.7:8080/jwks', 'http://127.0.0.1.nip.example/jwks', 'http://[::2]/jwks']) {
      expect(withJwks(url)).toEqual([expect.stringContaining('AUTH_JWKS_URL must be an https URL (http only to a loopback host')]);
    }
  });

  it('accepts https anywhere and http to a loopback host', () => {
    for (const url of [
      'https://login.example.test/jwks.json',
      'http://127.0.0.1:4000/jwks',
      'http://localhost/jwks',
      'http://[::1]:8080/jwks',
      'http://127.8.9.10/jwks',
    ]) {
      expect({ url, problems: withJwks(url) }).toEqual({ url, problems: [] });
    }
  });
});

describe('one message per variable', () => {
  it('PORT=abc says it is not a number, once', () => {
    expect(problems({ PORT: 'abc' })).toEqual(['PORT must be an integer number (got "abc")']);
    expect(problems({ PORT: '70000' })).toEqual(['PORT must not be greater than 65535 (got "70000")']);
  });

  it("trusts the simulator's media host certificate only outside production; media limits per kind are validated", () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    expect(AppConfig.fromEnvironment({ WHATSAPP_SIMULATOR_MEDIA_CA: pem }).whatsapp.simulatorMediaCa).toBe(pem);
    expect(problems({ WHATSAPP_SIMULATOR_MEDIA_CA: pem, NODE_ENV: 'production' })).toEqual([
      'WHATSAPP_SIMULATOR_MEDIA_CA is for tests and the demo only: it must not be set with NODE_ENV=production',
    ]);
    expect(problems({ WHATSAPP_SIMULATOR_MEDIA_CA: 'not a certificate' })).toEqual([expect.stringContaining('must be a PEM certificate')]);
    const media = AppConfig.fromEnvironment({ MEDIA_IMAGE_MAX_BYTES: '1000', MEDIA_VOICE_TYPES: 'audio/ogg,audio/*' }).sending.media;
    expect(media.image).toEqual({ maxBytes: 1000, types: ['image/jpeg', 'image/png'] });
    expect(media.voice.types).toEqual(['audio/ogg', 'audio/*']);
    expect(media.document).toEqual({ maxBytes: 104_857_600, types: ['*/*'] });
    expect(problems({ MEDIA_IMAGE_TYPES: 'image/png, image/jpeg' })).toEqual([expect.stringContaining('MEDIA_IMAGE_TYPES must be a comma-separated list')]);
    expect(problems({ MEDIA_STICKER_MAX_BYTES: '0' })).toHaveLength(1);
  });
});
