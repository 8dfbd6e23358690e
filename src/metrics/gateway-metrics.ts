import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import type { Pool } from 'pg';
import { SESSION_STATUSES } from '../sessions/session-status';
import type { SessionStatus } from '../sessions/session-status';

/** Seconds; from a cached API-key read on loopback (~1 ms) to a request stuck on a database timeout. */
const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Every Prometheus metric of the gateway, in one registry per app instance (so two apps in one
 * process, as in tests, never collide). Modules inject this and use the typed metrics below;
 * a module that needs a metric of its own registers it on `registry`.
 */
@Injectable()
export class GatewayMetrics {
  readonly registry = new Registry();

  /** HTTP request duration by method, route pattern (never the raw URL) and status code. */
  readonly httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [this.registry],
  });

  /** Requests whose client hung up before the response was sent, by method and route pattern. */
  readonly httpRequestsAborted = new Counter({
    name: 'http_requests_aborted_total',
    help: 'HTTP requests whose client closed the connection before the response was sent, by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    registers: [this.registry],
  });

  /**
   * Where the counts of `sessionsByStatus` come from at each scrape: SessionMetricsExporter points
   * it at the connection supervisor. Without a source, the gauge keeps whatever was set on it.
   */
  sessionStatusSource?: () => Partial<Record<SessionStatus, number>>;

  /** WhatsApp sessions held by this replica, by connection status (every SESSION_STATUSES value, 0 when none). */
  readonly sessionsByStatus: Gauge<'status'>;

  /**
   * WhatsApp sync events applied to the stored copy, by Baileys event name (e.g. `chats.upsert`):
   * one per event per applied batch, fed from SyncMetrics by SyncMetricsExporter.
   */
  readonly syncEventsProcessed = new Counter({
    name: 'gateway_sync_events_processed_total',
    help: 'WhatsApp sync events applied to the stored copy, by event name.',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  /** Requests refused with 429, by the policy that refused them (`caller` or `org`). */
  readonly rateLimited = new Counter({
    name: 'gateway_rate_limited_requests_total',
    help: 'Requests refused with 429 rate_limited, by policy.',
    labelNames: ['policy'] as const,
    registers: [this.registry],
  });

  /** Rate-limit checks that could not reach Redis and were counted in memory instead. */
  readonly rateLimitStoreErrors = new Counter({
    name: 'gateway_rate_limit_store_errors_total',
    help: 'Rate-limit checks that failed to reach Redis and fell back to this replica\'s memory.',
    registers: [this.registry],
  });

  /** The pg pools the gateway_db_pool_* gauges report, by their `pool` label. */
  private readonly pools = new Map<string, () => Pool | undefined>();

  /** Reports a pg pool in the gateway_db_pool_* gauges, labelled `pool="<name>"`. */
  watchPool(name: string, pool: () => Pool | undefined): void {
    this.pools.set(name, pool);
  }

  constructor(dataSource: DataSource) {
    collectDefaultMetrics({ register: this.registry });
    const metrics = this;
    this.sessionsByStatus = new Gauge({
      name: 'gateway_whatsapp_sessions',
      help: 'WhatsApp sessions held by this replica, by connection status.',
      labelNames: ['status'] as const,
      registers: [this.registry],
      collect() {
        const counts = metrics.sessionStatusSource?.();
        if (counts) for (const status of SESSION_STATUSES) this.set({ status }, counts[status] ?? 0);
      },
    });
    for (const status of SESSION_STATUSES) this.sessionsByStatus.set({ status }, 0);
    this.watchPool('main', () => (dataSource.driver as unknown as { master?: Pool }).master);
    const pools = this.pools;
    new Gauge({
      name: 'gateway_db_pool_connections',
      help: 'Database pool connections by pool (main, pages) and state (in_use, idle).',
      labelNames: ['pool', 'state'] as const,
      registers: [this.registry],
      collect() {
        for (const [name, current] of pools) {
          const pool = current();
          this.set({ pool: name, state: 'in_use' }, pool ? pool.totalCount - pool.idleCount : 0);
          this.set({ pool: name, state: 'idle' }, pool ? pool.idleCount : 0);
        }
      },
    });
    new Gauge({
      name: 'gateway_db_pool_waiting_requests',
      help: 'Queries waiting for a free database pool connection, by pool.',
      labelNames: ['pool'] as const,
      registers: [this.registry],
      collect() {
        for (const [name, current] of pools) this.set({ pool: name }, current()?.waitingCount ?? 0);
      },
    });
    new Gauge({
      name: 'gateway_db_pool_max_connections',
      help: 'Database pool sizes (DATABASE_POOL_MAX, DATABASE_PAGE_POOL_MAX), by pool.',
      labelNames: ['pool'] as const,
      registers: [this.registry],
      collect() {
        for (const [name, current] of pools) this.set({ pool: name }, (current()?.options as { max?: number } | undefined)?.max ?? 0);
      },
    });
  }
}
