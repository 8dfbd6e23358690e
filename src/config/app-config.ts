import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
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
    /** Connections of the page-read pool (List chats), beside the `poolMax` of everything else. */
    pagePoolMax: number;
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
  /** 32 bytes; undefined means "generate one and keep it in the database" (development only). */
  readonly credentialsEncryptionKey?: Buffer;
  readonly sessions: {
    replicaId: string;
    /** How many sessions this replica holds at most; 0 = serve the API but hold no connection. */
    capacity: number;
    leaseTtlMs: number;
    leaseRenewIntervalMs: number;
    takeoverJitterMs: number;
    commandPollMs: number;
    commandTimeoutMs: number;
    reconnectBaseDelayMs: number;
    reconnectMaxDelayMs: number;
  };
  readonly whatsapp: { webSocketUrl?: string; connectTimeoutMs: number; logLevel: string };
  readonly log: { level: string; pretty: boolean; async: boolean };
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
      pagePoolMax: env.DATABASE_PAGE_POOL_MAX,
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
    this.credentialsEncryptionKey = env.CREDENTIALS_ENCRYPTION_KEY ? parseKey(env.CREDENTIALS_ENCRYPTION_KEY) : undefined;
    this.sessions = {
      replicaId: env.REPLICA_ID ?? `${hostname().slice(0, 80)}-${randomBytes(3).toString('hex')}`,
      capacity: env.SESSION_CAPACITY,
      leaseTtlMs: env.SESSION_LEASE_TTL_MS,
      leaseRenewIntervalMs: env.SESSION_LEASE_RENEW_INTERVAL_MS,
      takeoverJitterMs: env.SESSION_TAKEOVER_JITTER_MS,
      commandPollMs: env.SESSION_COMMAND_POLL_MS,
      commandTimeoutMs: env.SESSION_COMMAND_TIMEOUT_MS,
      reconnectBaseDelayMs: env.RECONNECT_BASE_DELAY_MS,
      reconnectMaxDelayMs: env.RECONNECT_MAX_DELAY_MS,
    };
    this.whatsapp = { webSocketUrl: env.WHATSAPP_WS_URL, connectTimeoutMs: env.WHATSAPP_CONNECT_TIMEOUT_MS, logLevel: env.WHATSAPP_LOG_LEVEL };
    this.sync = { recordDir: env.SYNC_RECORD_DIR, chunkSize: env.SYNC_CHUNK_SIZE, maxConcurrentSessions: env.SYNC_MAX_CONCURRENT_SESSIONS };
    this.log = {
      level: env.LOG_LEVEL,
      pretty: env.LOG_FORMAT ? env.LOG_FORMAT === 'pretty' : Boolean(process.stdout.isTTY),
      async: env.LOG_ASYNC,
    };
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

/** 64 hex digits or base64 (standard or url-safe) of 32 bytes; the environment check already vetted the shape. */
function parseKey(value: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== 32) throw new ConfigValidationError(['CREDENTIALS_ENCRYPTION_KEY must decode to exactly 32 bytes']);
  return key;
}

function roleCapabilitiesFrom(spec: string): ReadonlyMap<string, readonly Capability[]> {
  try {
    return parseRoleCapabilities(spec);
  } catch (error) {
    throw new ConfigValidationError([(error as Error).message]);
  }
}
