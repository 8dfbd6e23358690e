import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Counter } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { MemoryRateLimitStore, WindowCount } from './rate-limit-store';
import { RedisRateLimitStore } from './redis-rate-limit-store';

const REDIS_CONNECT_WAIT_MS = 2000;
const FALLBACK_WARNING_INTERVAL_MS = 30_000;
/**
 * Keys this replica's memory holds at most (the oldest window goes first): a flood of made-up
 * client addresses cannot grow it without bound. Far above the callers and addresses a replica
 * meets within one window.
 */
const MAX_MEMORY_KEYS = 200_000;

/**
 * The fixed-window counts every limit of the gateway is decided on (requests per caller and per
 * org, failed authentications per address). Counted in Redis when REDIS_URL is set, so every
 * replica enforces one limit (one round trip per check), else in this replica's memory. When Redis
 * fails, the hit is counted in memory instead (fail open, per replica), and a warning is logged at
 * most every 30 s.
 */
@Injectable()
export class WindowCounter implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimit');
  private readonly memory = new MemoryRateLimitStore(Date.now, MAX_MEMORY_KEYS);
  private readonly redis?: RedisRateLimitStore;
  private lastFallbackWarning = 0;
  /** Hits that could not reach Redis and were counted in memory instead. */
  readonly storeErrors: Counter;

  constructor(config: AppConfig, metrics: GatewayMetrics) {
    this.storeErrors = new Counter({
      name: 'gateway_rate_limit_store_errors_total',
      help: "Rate-limit checks that failed to reach Redis and fell back to this replica's memory.",
      registers: [metrics.registry],
    });
    const counted = config.rateLimit.enabled || config.auth.failuresPerAddress > 0;
    if (counted && config.redisUrl) this.redis = new RedisRateLimitStore(config.redisUrl, config.rateLimit.redisPrefix, config.rateLimit.redisTimeoutMs);
  }

  async onModuleInit(): Promise<void> {
    if (!this.redis) return;
    if (!(await this.redis.connect(REDIS_CONNECT_WAIT_MS))) {
      this.logger.warn('Redis is not reachable at startup; counting rate limits in memory until it is');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis?.close();
  }

  /** Counts one hit of each key; synchronous without Redis (no promise on the hot path). */
  hit(keys: readonly string[], windowMs: number): WindowCount[] | Promise<WindowCount[]> {
    if (!this.redis) return this.memory.hit(keys, windowMs);
    return this.redis.hit(keys, windowMs).catch((error: Error) => {
      this.storeErrors.inc();
      const now = Date.now();
      if (now - this.lastFallbackWarning > FALLBACK_WARNING_INTERVAL_MS) {
        this.lastFallbackWarning = now;
        this.logger.warn(`Redis rate-limit check failed (${error.message}); counting in memory meanwhile`);
      }
      return this.memory.hit(keys, windowMs);
    });
  }
}
