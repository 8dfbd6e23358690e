import { Capability, parseRoleCapabilities } from '../auth/capabilities';
import { ConfigValidationError, EnvironmentVariables, validateEnvironment } from './environment';

/** The gateway's typed configuration: read and validated once at boot, injected everywhere. */
export class AppConfig {
  readonly port: number;
  /** Listen address; undefined means every interface. */
  readonly host?: string;
  readonly database: {
    url?: string;
    poolMax: number;
    connectTimeoutMs: number;
    statementTimeoutMs: number;
    migrateOnStart: boolean;
    embedded: { dataDir: string; port: number };
  };
  readonly auth: {
    jwt?: {
      jwksUrl: string;
      issuer: string;
      audience: string;
      algorithms: string[];
      clockToleranceSeconds: number;
      orgClaim: string;
      roleClaim: string;
      jwksCacheSeconds: number;
      jwksRefetchCooldownSeconds: number;
      jwksMaxStaleSeconds: number;
      jwksTimeoutMs: number;
    };
    roleCapabilities: ReadonlyMap<string, readonly Capability[]>;
    apiKeyCacheSeconds: number;
  };
  readonly cursorSecret?: string;
  readonly log: { level: string; pretty: boolean };
  readonly health: { databaseTimeoutMs: number };
  readonly shutdown: { delayMs: number; graceMs: number };
  readonly metrics: { enabled: boolean; port?: number };
  readonly redisUrl?: string;
  readonly rateLimit: {
    enabled: boolean;
    windowMs: number;
    perCaller: number;
    perOrg: number;
    redisPrefix: string;
    redisTimeoutMs: number;
  };
  readonly http: {
    /** undefined: CORS off; '*': any origin; else the exact origins allowed. */
    corsOrigins?: '*' | string[];
    /** Express `trust proxy` value. */
    trustProxy: boolean | number | string;
  };
  readonly sync: { recordDir?: string; chunkSize: number; maxConcurrentSessions: number };

  constructor(env: EnvironmentVariables) {
    this.port = env.PORT;
    this.host = env.HOST;
    this.database = {
      url: env.DATABASE_URL,
      poolMax: env.DATABASE_POOL_MAX,
      connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
      migrateOnStart: env.DATABASE_MIGRATE_ON_START,
      embedded: { dataDir: env.EMBEDDED_POSTGRES_DIR, port: env.EMBEDDED_POSTGRES_PORT },
    };
    this.auth = {
      jwt: env.AUTH_JWKS_URL
        ? {
            jwksUrl: env.AUTH_JWKS_URL,
            issuer: env.AUTH_JWT_ISSUER!,
            audience: env.AUTH_JWT_AUDIENCE!,
            algorithms: env.AUTH_JWT_ALGORITHMS.split(','),
            clockToleranceSeconds: env.AUTH_JWT_CLOCK_TOLERANCE_SECONDS,
            orgClaim: env.AUTH_ORG_CLAIM,
            roleClaim: env.AUTH_ROLE_CLAIM,
            jwksCacheSeconds: env.AUTH_JWKS_CACHE_SECONDS,
            jwksRefetchCooldownSeconds: env.AUTH_JWKS_REFETCH_COOLDOWN_SECONDS,
            jwksMaxStaleSeconds: env.AUTH_JWKS_MAX_STALE_SECONDS,
            jwksTimeoutMs: env.AUTH_JWKS_TIMEOUT_MS,
          }
        : undefined,
      roleCapabilities: roleCapabilitiesFrom(env.AUTH_ROLE_CAPABILITIES),
      apiKeyCacheSeconds: env.AUTH_API_KEY_CACHE_SECONDS,
    };
    this.cursorSecret = env.CURSOR_SECRET;
    this.sync = { recordDir: env.SYNC_RECORD_DIR, chunkSize: env.SYNC_CHUNK_SIZE, maxConcurrentSessions: env.SYNC_MAX_CONCURRENT_SESSIONS };
    this.log = { level: env.LOG_LEVEL, pretty: env.LOG_FORMAT ? env.LOG_FORMAT === 'pretty' : Boolean(process.stdout.isTTY) };
    this.health = { databaseTimeoutMs: env.DATABASE_HEALTH_TIMEOUT_MS };
    this.shutdown = { delayMs: env.SHUTDOWN_DELAY_MS, graceMs: env.SHUTDOWN_GRACE_MS };
    this.metrics = { enabled: env.METRICS_ENABLED, port: env.METRICS_PORT };
    this.redisUrl = env.REDIS_URL;
    this.rateLimit = {
      enabled: env.RATE_LIMIT_ENABLED,
      windowMs: env.RATE_LIMIT_WINDOW_MS,
      perCaller: env.RATE_LIMIT_PER_CALLER,
      perOrg: env.RATE_LIMIT_PER_ORG,
      redisPrefix: env.RATE_LIMIT_REDIS_PREFIX,
      redisTimeoutMs: env.RATE_LIMIT_REDIS_TIMEOUT_MS,
    };
    this.http = { corsOrigins: corsOriginsFrom(env.CORS_ORIGINS), trustProxy: trustProxyFrom(env.TRUST_PROXY) };
  }

  static fromEnvironment(env: Record<string, string | undefined> = process.env): AppConfig {
    return new AppConfig(validateEnvironment(env));
  }
}

function corsOriginsFrom(spec: string | undefined): '*' | string[] | undefined {
  if (spec === undefined) return undefined;
  if (spec.trim() === '*') return '*';
  return spec.split(',').map((origin) => origin.trim().replace(/\/$/, ''));
}

function trustProxyFrom(spec: string): boolean | number | string {
  if (spec === 'true') return true;
  if (spec === 'false') return false;
  if (/^\d+$/.test(spec)) return Number(spec);
  return spec.split(',').map((part) => part.trim()).join(',');
}

function roleCapabilitiesFrom(spec: string): ReadonlyMap<string, readonly Capability[]> {
  try {
    return parseRoleCapabilities(spec);
  } catch (error) {
    throw new ConfigValidationError([(error as Error).message]);
  }
}
