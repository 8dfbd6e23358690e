import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : /^-?\d+$/.test(String(value)) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

/**
 * Every environment variable the gateway reads, with its default. Validated once at boot;
 * README "Configuration" documents the same list.
 */
export class EnvironmentVariables {
  @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  PORT = 3000;

  @Transform(emptyToUndefined) @IsOptional() @IsString() @Matches(/^[\w.:%-]+$/, { message: 'HOST must be a host name or an IP address' })
  /** The address to listen on; unset means every interface (what a container needs). */
  HOST?: string;

  @Transform(emptyToUndefined) @IsOptional() @IsString() @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  /** secret: may hold a password */
  DATABASE_URL?: string;

  @Transform(toInt) @IsInt() @Min(1) @Max(200)
  DATABASE_POOL_MAX = 10;

  @Transform(toInt) @IsInt() @Min(1) @Max(200)
  DATABASE_PAGE_POOL_MAX = 10;

  @Transform(toInt) @IsInt() @Min(100) @Max(120_000)
  DATABASE_CONNECT_TIMEOUT_MS = 5000;

  @Transform(toInt) @IsInt() @Min(100) @Max(600_000)
  DATABASE_STATEMENT_TIMEOUT_MS = 15_000;

  @Transform(toBool) @IsBoolean()
  DATABASE_MIGRATE_ON_START = true;

  @IsString() @MinLength(1)
  EMBEDDED_POSTGRES_DIR = '.data/postgres';

  @Transform(toInt) @IsInt() @Min(1024) @Max(65535)
  EMBEDDED_POSTGRES_PORT = 54329;

  @Transform(emptyToUndefined) @IsOptional() @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: 'AUTH_JWKS_URL must be an http(s) URL' })
  AUTH_JWKS_URL?: string;

  @Transform(emptyToUndefined) @IsOptional() @IsString() @MinLength(1)
  AUTH_JWT_ISSUER?: string;

  @Transform(emptyToUndefined) @IsOptional() @IsString() @MinLength(1)
  AUTH_JWT_AUDIENCE?: string;

  @Matches(/^(RS|PS|ES)(256|384|512)(,(RS|PS|ES)(256|384|512))*$/, {
    message: 'AUTH_JWT_ALGORITHMS must be a comma-separated list of asymmetric algorithms (RS256, PS256, ES256, ...)',
  })
  AUTH_JWT_ALGORITHMS = 'RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,ES512';

  @Transform(toInt) @IsInt() @Min(0) @Max(300)
  AUTH_JWT_CLOCK_TOLERANCE_SECONDS = 30;

  @IsString() @MinLength(1) @MaxLength(200)
  AUTH_ORG_CLAIM = 'org_id';

  @IsString() @MinLength(1) @MaxLength(200)
  AUTH_ROLE_CLAIM = 'role';

  @Matches(/^\s*[\w.-]+\s*=\s*[\w*]*(\s*,\s*[\w*]+)*\s*(;\s*[\w.-]+\s*=\s*[\w*]*(\s*,\s*[\w*]+)*\s*)*;?\s*$/, {
    message: 'AUTH_ROLE_CAPABILITIES must look like "owner=*;admin=*;member=read,send;viewer=read"',
  })
  AUTH_ROLE_CAPABILITIES = 'owner=*;admin=*;member=read,send;viewer=read';

  @Transform(toInt) @IsInt() @Min(10) @Max(86_400)
  AUTH_JWKS_CACHE_SECONDS = 600;

  @Transform(toInt) @IsInt() @Min(1) @Max(3600)
  AUTH_JWKS_REFETCH_COOLDOWN_SECONDS = 30;

  @Transform(toInt) @IsInt() @Min(60) @Max(7 * 86_400)
  AUTH_JWKS_MAX_STALE_SECONDS = 6 * 3600;

  @Transform(toInt) @IsInt() @Min(100) @Max(60_000)
  AUTH_JWKS_TIMEOUT_MS = 3000;

  @Transform(toInt) @IsInt() @Min(0) @Max(60)
  AUTH_API_KEY_CACHE_SECONDS = 30;

  @Transform(emptyToUndefined) @IsOptional() @IsString() @MinLength(32, { message: 'CURSOR_SECRET must be at least 32 characters' })
  /** secret: signs pagination cursors; every replica must share it (generated and kept in the database when unset) */
  CURSOR_SECRET?: string;

  @Transform(emptyToUndefined) @IsOptional() @Matches(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$/, {
    message: 'CREDENTIALS_ENCRYPTION_KEY must be 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)',
  })
  /** secret: encrypts WhatsApp credentials at rest (AES-256-GCM); generated and kept in the database when unset (development only) */
  CREDENTIALS_ENCRYPTION_KEY?: string;

  @Transform(emptyToUndefined) @IsOptional() @IsString() @Matches(/^[A-Za-z0-9._:-]{1,100}$/, { message: 'REPLICA_ID must be 1-100 characters of A-Z a-z 0-9 . _ : -' })
  /** this process's name in the lease table; default: host name plus a random suffix */
  REPLICA_ID?: string;

  @Transform(toInt) @IsInt() @Min(0) @Max(100_000)
  SESSION_CAPACITY = 500;

  @Transform(toInt) @IsInt() @Min(200) @Max(600_000)
  SESSION_LEASE_TTL_MS = 20_000;

  @Transform(toInt) @IsInt() @Min(50) @Max(300_000)
  SESSION_LEASE_RENEW_INTERVAL_MS = 5_000;

  @Transform(toInt) @IsInt() @Min(0) @Max(300_000)
  SESSION_TAKEOVER_JITTER_MS = 5_000;

  @Transform(toInt) @IsInt() @Min(20) @Max(60_000)
  SESSION_COMMAND_POLL_MS = 500;

  @Transform(toInt) @IsInt() @Min(100) @Max(300_000)
  SESSION_COMMAND_TIMEOUT_MS = 15_000;

  @Transform(toInt) @IsInt() @Min(10) @Max(600_000)
  RECONNECT_BASE_DELAY_MS = 1_000;

  @Transform(toInt) @IsInt() @Min(10) @Max(3_600_000)
  RECONNECT_MAX_DELAY_MS = 60_000;

  @Transform(emptyToUndefined) @IsOptional() @IsUrl({ require_tld: false, protocols: ['ws', 'wss'], require_protocol: true }, { message: 'WHATSAPP_WS_URL must be a ws:// or wss:// URL' })
  /** where Baileys connects; default: WhatsApp Web's own endpoint */
  WHATSAPP_WS_URL?: string;

  @Transform(toInt) @IsInt() @Min(100) @Max(300_000)
  WHATSAPP_CONNECT_TIMEOUT_MS = 20_000;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  WHATSAPP_LOG_LEVEL = 'warn';

  @Transform(emptyToUndefined) @IsOptional() @IsString() @MinLength(1)
  /** directory for JSONL recordings of each session's raw Baileys events; recording is off when unset */
  SYNC_RECORD_DIR?: string;

  @Transform(toInt) @IsInt() @Min(50) @Max(20_000)
  SYNC_CHUNK_SIZE = 5000;

  @Transform(toInt) @IsInt() @Min(1) @Max(64)
  SYNC_MAX_CONCURRENT_SESSIONS = 4;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** Buffer JSON log lines and write them in the background (pino's asynchronous destination). */
  @Transform(toBool) @IsBoolean()
  LOG_ASYNC = false;

  @Transform(emptyToUndefined) @IsOptional() @IsIn(['json', 'pretty'])
  LOG_FORMAT?: 'json' | 'pretty';

  @Transform(toInt) @IsInt() @Min(100) @Max(60_000)
  /** Readiness: how long the database may take to answer `SELECT 1` before the replica reports not ready. */
  DATABASE_HEALTH_TIMEOUT_MS = 2000;

  @Transform(toInt) @IsInt() @Min(0) @Max(300_000)
  /** SIGTERM: how long the replica keeps serving (readiness already false) before it stops accepting connections. */
  SHUTDOWN_DELAY_MS = 5000;

  @Transform(toInt) @IsInt() @Min(1000) @Max(600_000)
  /** SIGTERM: the whole shutdown (delay, drain, cleanup) ends within this; keep it below terminationGracePeriodSeconds. */
  SHUTDOWN_GRACE_MS = 25_000;

  @Transform(toBool) @IsBoolean()
  METRICS_ENABLED = true;

  @Transform(toInt) @IsOptional() @IsInt() @Min(0) @Max(65535)
  /** Serve /metrics on this port only (not on PORT). Unset: /metrics is served on PORT. */
  METRICS_PORT?: number;

  @Transform(toBool) @IsBoolean()
  RATE_LIMIT_ENABLED = true;

  @Transform(toInt) @IsInt() @Min(1000) @Max(86_400_000)
  RATE_LIMIT_WINDOW_MS = 60_000;

  @Transform(toInt) @IsInt() @Min(1) @Max(10_000_000)
  /** Requests per window for one caller: one API key, or one login user (org + subject). */
  RATE_LIMIT_PER_CALLER = 1200;

  @Transform(toInt) @IsInt() @Min(1) @Max(100_000_000)
  /** Requests per window for one organization, all its keys and users together. */
  RATE_LIMIT_PER_ORG = 6000;

  @Transform(emptyToUndefined) @IsOptional() @IsString() @Matches(/^rediss?:\/\//, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  /** secret: may hold a password. When set, rate limits are counted in Redis and hold across replicas. */
  REDIS_URL?: string;

  @IsString() @Matches(/^[\w:.{}-]{1,64}$/, { message: 'RATE_LIMIT_REDIS_PREFIX must be 1-64 characters of [A-Za-z0-9_:.{}-]' })
  RATE_LIMIT_REDIS_PREFIX = 'gw:rl:';

  @Transform(toInt) @IsInt() @Min(10) @Max(10_000)
  /** A Redis call slower than this lets the request through, counted in memory instead (fail open). */
  RATE_LIMIT_REDIS_TIMEOUT_MS = 250;

  @Transform(emptyToUndefined) @IsOptional() @IsString()
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
}

/** Variables that may hold a secret: never echoed in a validation message, kept in a Kubernetes Secret. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set(['DATABASE_URL', 'CURSOR_SECRET', 'CREDENTIALS_ENCRYPTION_KEY', 'REDIS_URL']);
const OPTIONAL_VARIABLES = [
  'HOST',
  'DATABASE_URL',
  'AUTH_JWKS_URL',
  'AUTH_JWT_ISSUER',
  'AUTH_JWT_AUDIENCE',
  'CURSOR_SECRET',
  'LOG_FORMAT',
  'SYNC_RECORD_DIR',
  'CREDENTIALS_ENCRYPTION_KEY',
  'REPLICA_ID',
  'WHATSAPP_WS_URL',
  'METRICS_PORT',
  'REDIS_URL',
  'CORS_ORIGINS',
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
    Object.keys(new EnvironmentVariables()).concat(OPTIONAL_VARIABLES)
      .filter((key) => env[key] !== undefined)
      .map((key) => [key, env[key]]),
  );
  const parsed = plainToInstance(EnvironmentVariables, known, { exposeDefaultValues: true });
  const problems = validateSync(parsed, { forbidUnknownValues: false }).flatMap((error) =>
    Object.values(error.constraints ?? {}).map((message) =>
      SECRET_VARIABLES.has(error.property) ? message : `${message} (got ${JSON.stringify(env[error.property])})`,
    ),
  );
  if (parsed.AUTH_JWKS_URL && !parsed.AUTH_JWT_ISSUER) problems.push('AUTH_JWT_ISSUER is required when AUTH_JWKS_URL is set');
  if (parsed.AUTH_JWKS_URL && !parsed.AUTH_JWT_AUDIENCE) problems.push('AUTH_JWT_AUDIENCE is required when AUTH_JWKS_URL is set');
  if (parsed.METRICS_PORT && parsed.METRICS_PORT === parsed.PORT) problems.push('METRICS_PORT must differ from PORT (unset it to serve /metrics on PORT)');
  if (parsed.SHUTDOWN_DELAY_MS >= parsed.SHUTDOWN_GRACE_MS) problems.push('SHUTDOWN_DELAY_MS must be less than SHUTDOWN_GRACE_MS');
  if (parsed.SESSION_LEASE_RENEW_INTERVAL_MS * 2 > parsed.SESSION_LEASE_TTL_MS) {
    problems.push('SESSION_LEASE_RENEW_INTERVAL_MS must be at most half of SESSION_LEASE_TTL_MS, so a lease is renewed at least twice before it expires');
  }
  if (parsed.RECONNECT_BASE_DELAY_MS > parsed.RECONNECT_MAX_DELAY_MS) problems.push('RECONNECT_BASE_DELAY_MS must not exceed RECONNECT_MAX_DELAY_MS');
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return parsed;
}
