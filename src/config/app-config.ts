import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Capability, parseRoleCapabilities } from '../common/capabilities';
import { ConfigValidationError, EnvironmentVariables, HttpPlatformName, validateEnvironment } from './environment';
import { productionSecretProblems } from './production-secrets';

/** The kinds of media a message can carry (docs/sending.md, "Media"). */
export const MEDIA_KINDS = ['image', 'video', 'audio', 'voice', 'document', 'sticker'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];
/** Per kind: the largest file a send may upload, and the content types it may have (`type/*`, `*` + `/*` match many). */
export type MediaLimits = Record<MediaKind, { maxBytes: number; types: string[] }>;

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
    /**
     * How long PostgreSQL lets a gateway connection sit idle inside a transaction before it ends
     * the connection. A replica paused mid-transaction (SIGSTOP, a long GC, a network partition)
     * otherwise keeps that transaction's locks for as long as the pause lasts: the share lock a
     * fenced write holds on its lease row, or an org's claim lock, and no other replica can take
     * the session over. At most the lease TTL by default, so such a pause never holds up a takeover
     * longer than the lease itself.
     */
    idleInTransactionTimeoutMs: number;
    migrateOnStart: boolean;
    /** `port` unset: the data folder's own port (database/embedded-postgres.ts). */
    embedded: { dataDir: string; port?: number };
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
    /** 401s one client address may make per window (0: no limit), and the window. */
    failuresPerAddress: number;
    failureWindowSeconds: number;
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
    /** Quotas per organization (defaults; an org_quotas row overrides them): sessions, and running sessions. */
    maxPerOrg: number;
    maxRunningPerOrg: number;
  };
  readonly whatsapp: {
    webSocketUrl?: string;
    /** Tests and demo only: the WhatsApp simulator's root key, trusted in place of WhatsApp's. */
    simulatorRootKey?: Buffer;
    /** Tests and demo only: the WhatsApp simulator's media host certificate (PEM), trusted for media uploads. */
    simulatorMediaCa?: string;
    connectTimeoutMs: number;
    logLevel: string;
  };
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
    /** Which proxies to believe about the client address: true, a hop count, or addresses/subnets. */
    trustProxy: boolean | number | string;
    /** HTTP_PLATFORM: the HTTP server under the API (src/http/). */
    platform: HttpPlatformName;
  };
  readonly sync: { recordDir?: string; chunkSize: number; maxConcurrentSessions: number };
  readonly messages: { retentionSweepMs: number; retentionBatch: number };
  readonly sending: { ratePerMinute: number; burst: number; jitterMs: number; expiryMs: number; pollMs: number; ackTimeoutMs: number; media: MediaLimits };
  readonly events: { retentionHours: number; heartbeatMs: number; pollIntervalMs: number };
  readonly webhooks: {
    allowedNetworks: string[];
    timeoutMs: number;
    /** Delay before each retry, in ms, already multiplied by WEBHOOK_RETRY_TIME_SCALE. */
    retryDelaysMs: number[];
    workers: number;
    batchSize: number;
    pollIntervalMs: number;
  };
  readonly jobQueue: { maintenanceSeconds: number };

  constructor(env: EnvironmentVariables) {
    this.port = env.PORT;
    this.host = env.HOST;
    this.database = {
      url: env.DATABASE_URL,
      poolMax: env.DATABASE_POOL_MAX,
      pagePoolMax: env.DATABASE_PAGE_POOL_MAX,
      connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
      idleInTransactionTimeoutMs: env.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS ?? Math.min(env.DATABASE_STATEMENT_TIMEOUT_MS, env.SESSION_LEASE_TTL_MS),
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
      failuresPerAddress: env.AUTH_FAILURES_PER_ADDRESS,
      failureWindowSeconds: env.AUTH_FAILURE_WINDOW_SECONDS,
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
      maxPerOrg: env.ORG_MAX_SESSIONS,
      maxRunningPerOrg: env.ORG_MAX_RUNNING_SESSIONS,
    };
    this.whatsapp = {
      webSocketUrl: env.WHATSAPP_WS_URL,
      simulatorRootKey: env.WHATSAPP_SIMULATOR_ROOT_KEY ? Buffer.from(env.WHATSAPP_SIMULATOR_ROOT_KEY, 'hex') : undefined,
      simulatorMediaCa: env.WHATSAPP_SIMULATOR_MEDIA_CA,
      connectTimeoutMs: env.WHATSAPP_CONNECT_TIMEOUT_MS,
      logLevel: env.WHATSAPP_LOG_LEVEL,
    };
    this.sync = { recordDir: env.SYNC_RECORD_DIR, chunkSize: env.SYNC_CHUNK_SIZE, maxConcurrentSessions: env.SYNC_MAX_CONCURRENT_SESSIONS };
    this.messages = { retentionSweepMs: env.MESSAGE_RETENTION_SWEEP_MS, retentionBatch: env.MESSAGE_RETENTION_BATCH };
    this.sending = {
      ratePerMinute: env.SEND_RATE_PER_MINUTE,
      burst: env.SEND_BURST,
      jitterMs: env.SEND_JITTER_MS,
      expiryMs: env.SEND_EXPIRY_MS,
      pollMs: env.SEND_POLL_MS,
      ackTimeoutMs: env.SEND_ACK_TIMEOUT_MS,
      media: {
        image: { maxBytes: env.MEDIA_IMAGE_MAX_BYTES, types: env.MEDIA_IMAGE_TYPES.split(',') },
        video: { maxBytes: env.MEDIA_VIDEO_MAX_BYTES, types: env.MEDIA_VIDEO_TYPES.split(',') },
        audio: { maxBytes: env.MEDIA_AUDIO_MAX_BYTES, types: env.MEDIA_AUDIO_TYPES.split(',') },
        voice: { maxBytes: env.MEDIA_VOICE_MAX_BYTES, types: env.MEDIA_VOICE_TYPES.split(',') },
        document: { maxBytes: env.MEDIA_DOCUMENT_MAX_BYTES, types: env.MEDIA_DOCUMENT_TYPES.split(',') },
        sticker: { maxBytes: env.MEDIA_STICKER_MAX_BYTES, types: env.MEDIA_STICKER_TYPES.split(',') },
      },
    };
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
    this.events = { retentionHours: env.EVENTS_RETENTION_HOURS, heartbeatMs: env.EVENTS_STREAM_HEARTBEAT_MS, pollIntervalMs: env.EVENTS_POLL_INTERVAL_MS };
    this.webhooks = {
      allowedNetworks: env.WEBHOOK_ALLOWED_NETWORKS ? env.WEBHOOK_ALLOWED_NETWORKS.split(',').map((cidr) => cidr.trim()) : [],
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      retryDelaysMs: parseDelays(env.WEBHOOK_RETRY_SCHEDULE).map((ms) => ms * env.WEBHOOK_RETRY_TIME_SCALE),
      workers: env.WEBHOOK_WORKERS,
      batchSize: env.WEBHOOK_BATCH_SIZE,
      pollIntervalMs: env.WEBHOOK_POLL_INTERVAL_MS,
    };
    this.jobQueue = { maintenanceSeconds: env.JOB_QUEUE_MAINTENANCE_SECONDS };
    this.http = { corsOrigins: corsOriginsFrom(env.CORS_ORIGINS), trustProxy: trustProxyFrom(env.TRUST_PROXY), platform: env.HTTP_PLATFORM };
  }

  static fromEnvironment(env: Record<string, string | undefined> = process.env): AppConfig {
    return new AppConfig(validateEnvironment(env));
  }

  /** The gateway server's configuration: the same checks plus the production rule for its secrets. */
  static forServer(env: Record<string, string | undefined> = process.env): AppConfig {
    const parsed = validateEnvironment(env);
    const problems = productionSecretProblems(parsed);
    if (problems.length > 0) throw new ConfigValidationError(problems);
    return new AppConfig(parsed);
  }
}

const DELAY_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "5s,5m,2h" -> [5000, 300000, 7200000]; the environment check already vetted the shape. */
function parseDelays(spec: string): number[] {
  return spec.split(',').map((part) => {
    const [, amount, unit] = /^\s*(\d+)(ms|s|m|h)\s*$/.exec(part)!;
    return Number(amount) * DELAY_UNITS_MS[unit];
  });
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
  return spec
    .split(',')
    .map((part) => part.trim())
    .join(',');
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
