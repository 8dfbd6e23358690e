import { plainToInstance, Transform } from 'class-transformer';
import { firstConstraintMessage } from '../common/validation/first-constraint';
import { IsBoolean, IsIn, IsInt, IsNumber, IsOptional, IsString, IsUrl, Matches, Max, MaxLength, Min, MinLength, validateSync } from 'class-validator';

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);
/** A comma-separated list of content types: `image/png`, `image/*` (any subtype), `*` + `/*` (any). */
const MIMETYPE_LIST = /^(\*\/\*|[a-z0-9][\w.+-]*\/(\*|[a-z0-9][\w.+-]*))(,(\*\/\*|[a-z0-9][\w.+-]*\/(\*|[a-z0-9][\w.+-]*)))*$/;
const MIMETYPE_LIST_MESSAGE = (name: string) => `${name} must be a comma-separated list of content types (image/png, image/*, or */* for any)`;

/** The HTTP servers the gateway can run on (HTTP_PLATFORM; src/http/ holds both). */
export const HTTP_PLATFORMS = ['express', 'fastify'] as const;
export type HttpPlatformName = (typeof HTTP_PLATFORMS)[number];

/**
 * Every environment variable the gateway reads, with its default. Validated once at boot;
 * README "Configuration" documents the same list.
 */
export class EnvironmentVariables {
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Matches(/^[\w.:%-]+$/, { message: 'HOST must be a host name or an IP address' })
  /** The address to listen on; unset means every interface (what a container needs). */
  HOST?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  /** secret: may hold a password */
  DATABASE_URL?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_MAX = 10;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_PAGE_POOL_MAX = 10;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(120_000)
  DATABASE_CONNECT_TIMEOUT_MS = 5000;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600_000)
  DATABASE_STATEMENT_TIMEOUT_MS = 15_000;

  /** Unset: the smaller of DATABASE_STATEMENT_TIMEOUT_MS and SESSION_LEASE_TTL_MS (AppConfig). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600_000)
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS?: number;

  @Transform(toBool)
  @IsBoolean()
  DATABASE_MIGRATE_ON_START = true;

  @IsString()
  @MinLength(1)
  EMBEDDED_POSTGRES_DIR = '.data/postgres';

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1024)
  @Max(65535)
  /** Unset: a port chosen from the data folder's path (54400-55399), so each clone has its own server. */
  EMBEDDED_POSTGRES_PORT?: number;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: 'AUTH_JWKS_URL must be an http(s) URL' })
  /** https, or http to a loopback host only (a tampered key set on the wire would let anyone mint logins). */
  AUTH_JWKS_URL?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(1)
  AUTH_JWT_ISSUER?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(1)
  AUTH_JWT_AUDIENCE?: string;

  @Matches(/^(RS|PS|ES)(256|384|512)(,(RS|PS|ES)(256|384|512))*$/, {
    message: 'AUTH_JWT_ALGORITHMS must be a comma-separated list of asymmetric algorithms (RS256, PS256, ES256, ...)',
  })
  AUTH_JWT_ALGORITHMS = 'RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,ES512';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(300)
  AUTH_JWT_CLOCK_TOLERANCE_SECONDS = 30;

  @IsString()
  @MinLength(1)
  @MaxLength(200)
  AUTH_ORG_CLAIM = 'org_id';

  @IsString()
  @MinLength(1)
  @MaxLength(200)
  AUTH_ROLE_CLAIM = 'role';

  @Matches(/^\s*[\w.-]+\s*=\s*[\w*]*(\s*,\s*[\w*]+)*\s*(;\s*[\w.-]+\s*=\s*[\w*]*(\s*,\s*[\w*]+)*\s*)*;?\s*$/, {
    message: 'AUTH_ROLE_CAPABILITIES must look like "owner=*;admin=*;member=read,send;viewer=read"',
  })
  AUTH_ROLE_CAPABILITIES = 'owner=*;admin=*;member=read,send;viewer=read';

  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(86_400)
  AUTH_JWKS_CACHE_SECONDS = 600;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3600)
  AUTH_JWKS_REFETCH_COOLDOWN_SECONDS = 30;

  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(7 * 86_400)
  AUTH_JWKS_MAX_STALE_SECONDS = 6 * 3600;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  AUTH_JWKS_TIMEOUT_MS = 3000;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(60)
  AUTH_API_KEY_CACHE_SECONDS = 30;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  /** Failed authentications (401) one client address may make per window before it gets 429; 0 = no limit. */
  AUTH_FAILURES_PER_ADDRESS = 30;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86_400)
  AUTH_FAILURE_WINDOW_SECONDS = 60;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'CURSOR_SECRET must be at least 32 characters' })
  /** secret: signs pagination cursors; every replica must share it (generated and kept in the database when unset) */
  CURSOR_SECRET?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$/, {
    message: 'CREDENTIALS_ENCRYPTION_KEY must be 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)',
  })
  /** secret: encrypts WhatsApp credentials at rest (AES-256-GCM); generated and kept in the database when unset (development only) */
  CREDENTIALS_ENCRYPTION_KEY?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  /** `production` makes the gateway refuse to start without CREDENTIALS_ENCRYPTION_KEY and CURSOR_SECRET (see production-secrets.ts). */
  NODE_ENV?: string;

  @Transform(toBool)
  @IsBoolean()
  /** Production opt-out: let the gateway generate CREDENTIALS_ENCRYPTION_KEY / CURSOR_SECRET and keep them in the database. */
  ALLOW_SECRETS_IN_DATABASE = false;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._:-]{1,100}$/, { message: 'REPLICA_ID must be 1-100 characters of A-Z a-z 0-9 . _ : -' })
  /** this process's name in the lease table; default: host name plus a random suffix */
  REPLICA_ID?: string;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100_000)
  SESSION_CAPACITY = 500;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  /** Sessions one organization may have (an org_quotas row overrides it per org). */
  ORG_MAX_SESSIONS = 100;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  /** Sessions one organization may have running (connected or connecting) at once (an org_quotas row overrides it per org). */
  ORG_MAX_RUNNING_SESSIONS = 50;

  @Transform(toInt)
  @IsInt()
  @Min(200)
  @Max(600_000)
  SESSION_LEASE_TTL_MS = 20_000;

  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(300_000)
  SESSION_LEASE_RENEW_INTERVAL_MS = 5_000;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(300_000)
  SESSION_TAKEOVER_JITTER_MS = 5_000;

  @Transform(toInt)
  @IsInt()
  @Min(20)
  @Max(60_000)
  SESSION_COMMAND_POLL_MS = 500;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(300_000)
  SESSION_COMMAND_TIMEOUT_MS = 15_000;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(600_000)
  RECONNECT_BASE_DELAY_MS = 1_000;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(3_600_000)
  RECONNECT_MAX_DELAY_MS = 60_000;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['ws', 'wss'], require_protocol: true }, { message: 'WHATSAPP_WS_URL must be a ws:// or wss:// URL' })
  /** where Baileys connects; default: WhatsApp Web's own endpoint */
  WHATSAPP_WS_URL?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^[0-9a-fA-F]{64}$/, { message: 'WHATSAPP_SIMULATOR_ROOT_KEY must be 64 hex digits (the simulator prints its root key)' })
  /** tests and demo only: trust the WhatsApp simulator's certificate root instead of WhatsApp's; refused with NODE_ENV=production */
  WHATSAPP_SIMULATOR_ROOT_KEY?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----\s*$/, {
    message: 'WHATSAPP_SIMULATOR_MEDIA_CA must be a PEM certificate (the simulator prints its media host certificate)',
  })
  /** tests and demo only: trust the WhatsApp simulator's media host certificate (PEM) for media uploads; refused with NODE_ENV=production */
  WHATSAPP_SIMULATOR_MEDIA_CA?: string;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(300_000)
  WHATSAPP_CONNECT_TIMEOUT_MS = 20_000;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  WHATSAPP_LOG_LEVEL = 'warn';

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(1)
  /** directory for JSONL recordings of each session's raw Baileys events; recording is off when unset */
  SYNC_RECORD_DIR?: string;

  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(20_000)
  SYNC_CHUNK_SIZE = 5000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  SYNC_MAX_CONCURRENT_SESSIONS = 4;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  /** how often messages past their org's retention are deleted; 0 turns the sweep off */
  MESSAGE_RETENTION_SWEEP_MS = 3_600_000;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(100_000)
  /** messages deleted per statement (and transaction) by the retention sweep */
  MESSAGE_RETENTION_BATCH = 1000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(6_000)
  /** send pacing: messages per minute a session sends at most, once its burst is spent */
  SEND_RATE_PER_MINUTE = 20;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000)
  /** send pacing: messages a session may send back to back before the rate applies */
  SEND_BURST = 5;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(600_000)
  /** send pacing: up to this many ms of random delay added after each message */
  SEND_JITTER_MS = 2_000;

  @Transform(toInt)
  @IsInt()
  @Min(1_000)
  @Max(604_800_000)
  /** an accepted message not sent within this many ms (the session not connected) fails with reason expired */
  SEND_EXPIRY_MS = 86_400_000;

  @Transform(toInt)
  @IsInt()
  @Min(20)
  @Max(60_000)
  /** how often a replica looks for messages to send for the sessions it holds, and for expired ones */
  SEND_POLL_MS = 250;

  @Transform(toInt)
  @IsInt()
  @Min(1_000)
  @Max(3_600_000)
  /** a message or write handed to WhatsApp whose server ack has not come within this many ms is sent again, under the same WhatsApp id */
  SEND_ACK_TIMEOUT_MS = 60_000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  /** media sending: the largest image a send may upload, in bytes */
  MEDIA_IMAGE_MAX_BYTES = 16_777_216;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  /** media sending: the largest video, in bytes */
  MEDIA_VIDEO_MAX_BYTES = 16_777_216;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  /** media sending: the largest audio file, in bytes */
  MEDIA_AUDIO_MAX_BYTES = 16_777_216;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  /** media sending: the largest voice note, in bytes */
  MEDIA_VOICE_MAX_BYTES = 16_777_216;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  /** media sending: the largest document, in bytes */
  MEDIA_DOCUMENT_MAX_BYTES = 104_857_600;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  /** media sending: the largest sticker, in bytes */
  MEDIA_STICKER_MAX_BYTES = 512_000;

  @Matches(MIMETYPE_LIST, { message: MIMETYPE_LIST_MESSAGE('MEDIA_IMAGE_TYPES') })
  /** media sending: the content types of each kind (comma-separated; image/* takes any image, a lone star-slash-star any type) */
  MEDIA_IMAGE_TYPES = 'image/jpeg,image/png';

  @Matches(MIMETYPE_LIST, { message: MIMETYPE_LIST_MESSAGE('MEDIA_VIDEO_TYPES') })
  MEDIA_VIDEO_TYPES = 'video/mp4,video/3gpp';

  @Matches(MIMETYPE_LIST, { message: MIMETYPE_LIST_MESSAGE('MEDIA_AUDIO_TYPES') })
  MEDIA_AUDIO_TYPES = 'audio/aac,audio/mp4,audio/mpeg,audio/amr,audio/ogg';

  @Matches(MIMETYPE_LIST, { message: MIMETYPE_LIST_MESSAGE('MEDIA_VOICE_TYPES') })
  MEDIA_VOICE_TYPES = 'audio/ogg';

  @Matches(MIMETYPE_LIST, { message: MIMETYPE_LIST_MESSAGE('MEDIA_DOCUMENT_TYPES') })
  MEDIA_DOCUMENT_TYPES = '*/*';

  @Matches(MIMETYPE_LIST, { message: MIMETYPE_LIST_MESSAGE('MEDIA_STICKER_TYPES') })
  MEDIA_STICKER_TYPES = 'image/webp';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** Buffer JSON log lines and write them in the background (pino's asynchronous destination). */
  @Transform(toBool)
  @IsBoolean()
  LOG_ASYNC = false;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsIn(['json', 'pretty'])
  LOG_FORMAT?: 'json' | 'pretty';

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  /** Readiness: how long the database may take to answer `SELECT 1` before the replica reports not ready. */
  DATABASE_HEALTH_TIMEOUT_MS = 2000;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(300_000)
  /** SIGTERM: how long the replica keeps serving (readiness already false) before it stops accepting connections. */
  SHUTDOWN_DELAY_MS = 5000;

  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(600_000)
  /** SIGTERM: the whole shutdown (delay, drain, cleanup) ends within this; keep it below terminationGracePeriodSeconds. */
  SHUTDOWN_GRACE_MS = 25_000;

  @Transform(toBool)
  @IsBoolean()
  METRICS_ENABLED = true;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(65535)
  /** Serve /metrics on this port only (not on PORT). Unset: /metrics is served on PORT. */
  METRICS_PORT?: number;

  @Transform(toBool)
  @IsBoolean()
  RATE_LIMIT_ENABLED = true;

  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(86_400_000)
  RATE_LIMIT_WINDOW_MS = 60_000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  /** Requests per window for one caller: one API key, or one login user (org + subject). */
  RATE_LIMIT_PER_CALLER = 1200;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100_000_000)
  /** Requests per window for one organization, all its keys and users together. */
  RATE_LIMIT_PER_ORG = 6000;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Matches(/^rediss?:\/\//, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  /** secret: may hold a password. When set, rate limits are counted in Redis and hold across replicas. */
  REDIS_URL?: string;

  @IsString()
  @Matches(/^[\w:.{}-]{1,64}$/, { message: 'RATE_LIMIT_REDIS_PREFIX must be 1-64 characters of [A-Za-z0-9_:.{}-]' })
  RATE_LIMIT_REDIS_PREFIX = 'gw:rl:';

  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(10_000)
  /** A Redis call slower than this lets the request through, counted in memory instead (fail open). */
  RATE_LIMIT_REDIS_TIMEOUT_MS = 250;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Matches(/^(\*|https?:\/\/[^\s,/]+(\s*,\s*https?:\/\/[^\s,/]+)*)$/, {
    message: 'CORS_ORIGINS must be * or a comma-separated list of origins such as https://app.example.com',
  })
  /** Browser origins allowed to call the API (the frontend). Unset: no CORS headers at all. */
  CORS_ORIGINS?: string;

  @Matches(/^(true|false|\d{1,2}|[\w.:/]+(\s*,\s*[\w.:/]+)*)$/, {
    message: 'TRUST_PROXY must be true, false, a hop count, or a comma-separated list of addresses/subnets (loopback, 10.0.0.0/8, ...)',
  })
  /** Which proxies in front of the gateway to believe about the client address (X-Forwarded-For). */
  TRUST_PROXY = 'false';

  @IsIn(HTTP_PLATFORMS, { message: `HTTP_PLATFORM must be one of: ${HTTP_PLATFORMS.join(', ')}` })
  /** The HTTP server under the API: express (the default) or fastify; same behaviour, see docs/performance.md for when to pick which. */
  HTTP_PLATFORM: HttpPlatformName = 'express';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(24 * 365)
  /** How long events stay in the event log (SSE resume, webhook replay). Keep it above the webhook retry schedule (about 3 days). */
  EVENTS_RETENTION_HOURS = 168;

  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(300_000)
  /** SSE: a comment line this often on an idle stream, so proxies and clients know it is alive. */
  EVENTS_STREAM_HEARTBEAT_MS = 15_000;

  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(60_000)
  /** How often each replica reads the event log when no notification came (a missed NOTIFY costs at most this much latency). */
  EVENTS_POLL_INTERVAL_MS = 1000;

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^\s*[0-9a-fA-F.:]+\/\d{1,3}(\s*,\s*[0-9a-fA-F.:]+\/\d{1,3})*\s*$/, {
    message: 'WEBHOOK_ALLOWED_NETWORKS must be a comma-separated list of CIDR ranges such as 10.1.0.0/16,127.0.0.0/8',
  })
  /** Private, loopback or link-local networks that webhook URLs may nevertheless reach (all others are refused). */
  WEBHOOK_ALLOWED_NETWORKS?: string;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  /** One delivery attempt: connect, send and read the answer within this. */
  WEBHOOK_TIMEOUT_MS = 10_000;

  @Matches(/^\s*\d+(ms|s|m|h)(\s*,\s*\d+(ms|s|m|h))*\s*$/, { message: 'WEBHOOK_RETRY_SCHEDULE must be a comma-separated list of delays such as 5s,5m,30m,2h' })
  /** Delays before each retry of a failed delivery (each with up to 20% jitter); after the last one the delivery fails and the webhook is disabled. */
  WEBHOOK_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h,14h,20h,20h';

  @Transform(({ value }: { value: unknown }) =>
    value === undefined || value === '' ? undefined : typeof value === 'string' && /^\d+(\.\d+)?(e-?\d+)?$/.test(value) ? Number(value) : value,
  )
  @IsNumber()
  @Min(0.000001)
  @Max(1)
  /** Multiplies every delay of WEBHOOK_RETRY_SCHEDULE (tests run the schedule in seconds instead of days). */
  WEBHOOK_RETRY_TIME_SCALE = 1;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(64)
  /** Delivery workers per replica; each fetches up to WEBHOOK_BATCH_SIZE jobs and sends them concurrently. 0: this replica delivers nothing. */
  WEBHOOK_WORKERS = 4;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(500)
  WEBHOOK_BATCH_SIZE = 50;

  @Transform(toInt)
  @IsInt()
  @Min(500)
  @Max(600_000)
  /** How often an idle delivery worker looks at the queue (pg-boss's polling; 500 is its minimum). New deliveries of this replica wake its workers at once; this is for retries coming due and deliveries queued by other replicas. */
  WEBHOOK_POLL_INTERVAL_MS = 500;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3600)
  /** The job queue's supervision interval: a delivery whose replica died is handed to another after its expiry, noticed within this. */
  JOB_QUEUE_MAINTENANCE_SECONDS = 30;
}

/** Variables that may hold a secret: never echoed in a validation message, kept in a Kubernetes Secret. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set(['DATABASE_URL', 'CURSOR_SECRET', 'CREDENTIALS_ENCRYPTION_KEY', 'REDIS_URL']);
const OPTIONAL_VARIABLES = [
  'HOST',
  'DATABASE_URL',
  'EMBEDDED_POSTGRES_PORT',
  'AUTH_JWKS_URL',
  'AUTH_JWT_ISSUER',
  'AUTH_JWT_AUDIENCE',
  'CURSOR_SECRET',
  'LOG_FORMAT',
  'SYNC_RECORD_DIR',
  'CREDENTIALS_ENCRYPTION_KEY',
  'NODE_ENV',
  'REPLICA_ID',
  'WHATSAPP_WS_URL',
  'WHATSAPP_SIMULATOR_ROOT_KEY',
  'WHATSAPP_SIMULATOR_MEDIA_CA',
  'METRICS_PORT',
  'REDIS_URL',
  'CORS_ORIGINS',
  'WEBHOOK_ALLOWED_NETWORKS',
];

/** The name of every variable the gateway reads. */
export function environmentVariableNames(): string[] {
  return [...new Set([...Object.keys(new EnvironmentVariables()), ...OPTIONAL_VARIABLES])];
}

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

export function validateEnvironment(env: Record<string, string | undefined>): EnvironmentVariables {
  const known = Object.fromEntries(
    Object.keys(new EnvironmentVariables())
      .concat(OPTIONAL_VARIABLES)
      .filter((key) => env[key] !== undefined)
      .map((key) => [key, env[key]]),
  );
  const parsed = plainToInstance(EnvironmentVariables, known, { exposeDefaultValues: true });
  const problems = validateSync(parsed, { forbidUnknownValues: false }).map((error) => {
    // One message per variable: PORT=abc is not a number, not also out of range.
    const message = firstConstraintMessage(error.constraints ?? {})!;
    return SECRET_VARIABLES.has(error.property) ? message : `${message} (got ${JSON.stringify(env[error.property])})`;
  });
  for (const name of SECRET_VARIABLES) {
    if (PLACEHOLDER.test(env[name] ?? '')) problems.push(`${name} still holds an example placeholder; set a real value`);
  }
  if (parsed.AUTH_JWKS_URL && URL.canParse(parsed.AUTH_JWKS_URL) && !isHttpsOrLoopback(parsed.AUTH_JWKS_URL)) {
    problems.push(
      `AUTH_JWKS_URL must be an https URL (http only to a loopback host such as 127.0.0.1 or localhost) (got ${JSON.stringify(env.AUTH_JWKS_URL)})`,
    );
  }
  if (parsed.AUTH_JWKS_URL && !parsed.AUTH_JWT_ISSUER) problems.push('AUTH_JWT_ISSUER is required when AUTH_JWKS_URL is set');
  if (parsed.AUTH_JWKS_URL && !parsed.AUTH_JWT_AUDIENCE) problems.push('AUTH_JWT_AUDIENCE is required when AUTH_JWKS_URL is set');
  if (parsed.METRICS_PORT && parsed.METRICS_PORT === parsed.PORT) problems.push('METRICS_PORT must differ from PORT (unset it to serve /metrics on PORT)');
  if (parsed.SHUTDOWN_DELAY_MS >= parsed.SHUTDOWN_GRACE_MS) problems.push('SHUTDOWN_DELAY_MS must be less than SHUTDOWN_GRACE_MS');
  if (parsed.SESSION_LEASE_RENEW_INTERVAL_MS * 2 > parsed.SESSION_LEASE_TTL_MS) {
    problems.push('SESSION_LEASE_RENEW_INTERVAL_MS must be at most half of SESSION_LEASE_TTL_MS, so a lease is renewed at least twice before it expires');
  }
  if (parsed.WHATSAPP_SIMULATOR_ROOT_KEY && env.NODE_ENV === 'production') {
    problems.push('WHATSAPP_SIMULATOR_ROOT_KEY is for tests and the demo only: it must not be set with NODE_ENV=production');
  }
  if (parsed.WHATSAPP_SIMULATOR_MEDIA_CA && env.NODE_ENV === 'production') {
    problems.push('WHATSAPP_SIMULATOR_MEDIA_CA is for tests and the demo only: it must not be set with NODE_ENV=production');
  }
  if (parsed.RECONNECT_BASE_DELAY_MS > parsed.RECONNECT_MAX_DELAY_MS) problems.push('RECONNECT_BASE_DELAY_MS must not exceed RECONNECT_MAX_DELAY_MS');
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return parsed;
}

/** What the example Secret (deploy/k8s/base/secret.example.yaml) and the docs put where a secret goes. */
const PLACEHOLDER = /REPLACE[_-]?ME|CHANGE[_-]?ME/i;

function isHttpsOrLoopback(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === 'https:') return true;
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}
