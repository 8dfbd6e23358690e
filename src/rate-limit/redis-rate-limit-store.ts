import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import type { RateLimitStore, WindowCount } from './rate-limit-store';

/**
 * For every key: INCR, and start the window's expiry on the first hit (or if the key somehow lost
 * its TTL). One script, so the whole check is atomic and costs one round trip whatever the number
 * of keys. Returns count and remaining milliseconds for each key, flattened.
 */
const HIT_SCRIPT = `
local window = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if count == 1 or ttl < 0 then
    redis.call('PEXPIRE', key, window)
    ttl = window
  end
  out[2 * i - 1] = count
  out[2 * i] = ttl
end
return out
`;

type HitCommand = (numberOfKeys: number, ...args: (string | number)[]) => Promise<number[]>;

/** Counts in Redis, so every replica sharing REDIS_URL enforces one limit. */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly logger = new Logger('RateLimit');
  readonly client: Redis;

  constructor(
    url: string,
    private readonly prefix: string,
    timeoutMs: number,
  ) {
    this.client = new Redis(url, {
      // Fail fast instead of queueing while disconnected: the caller falls back to memory.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      connectTimeout: Math.max(1000, timeoutMs),
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      lazyConnect: true,
      // After a refused connection ioredis still waits this long before letting go of the dead stream.
      disconnectTimeout: 200,
    });
    this.client.defineCommand('gatewayRateLimitHit', { lua: HIT_SCRIPT });
    this.client.on('error', (error: Error) => this.logger.debug(`redis: ${error.message}`));
  }

  /** Connects, waiting at most `timeoutMs`; the gateway starts anyway when Redis is down (limits then count in memory). */
  async connect(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const connected = this.client.connect().then(
      () => true,
      () => false,
    );
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([connected, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async hit(keys: readonly string[], windowMs: number): Promise<WindowCount[]> {
    const command = (this.client as unknown as { gatewayRateLimitHit: HitCommand }).gatewayRateLimitHit;
    const flat = await command.call(this.client, keys.length, ...keys.map((key) => this.prefix + key), windowMs);
    return keys.map((_key, index) => ({ count: Number(flat[2 * index]), resetInMs: Number(flat[2 * index + 1]) }));
  }

  async close(): Promise<void> {
    if (this.client.status === 'ready') await this.client.quit().catch(() => this.client.disconnect());
    else this.client.disconnect();
  }
}
