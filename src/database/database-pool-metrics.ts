import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { GatewayMetrics } from '../metrics/gateway-metrics';

/**
 * The gateway_db_pool_* gauges, by `pool`: TypeORM's pool (`main`) and every pool a provider adds
 * with `watchPool` (the page-read pool, `pages`). Read at each scrape.
 */
@Injectable()
export class DatabasePoolMetrics {
  private readonly pools = new Map<string, () => Pool | undefined>();

  constructor(metrics: GatewayMetrics, @InjectDataSource() dataSource: DataSource) {
    this.watchPool('main', () => (dataSource.driver as unknown as { master?: Pool }).master);
    const pools = this.pools;
    const registers = [metrics.registry];
    new Gauge({
      name: 'gateway_db_pool_connections',
      help: 'Database pool connections by pool (main, pages) and state (in_use, idle).',
      labelNames: ['pool', 'state'] as const,
      registers,
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
      registers,
      collect() {
        for (const [name, current] of pools) this.set({ pool: name }, current()?.waitingCount ?? 0);
      },
    });
    new Gauge({
      name: 'gateway_db_pool_max_connections',
      help: 'Database pool sizes (DATABASE_POOL_MAX, DATABASE_PAGE_POOL_MAX), by pool.',
      labelNames: ['pool'] as const,
      registers,
      collect() {
        for (const [name, current] of pools) this.set({ pool: name }, (current()?.options as { max?: number } | undefined)?.max ?? 0);
      },
    });
  }

  /** Reports a pg pool in the gateway_db_pool_* gauges, labelled `pool="<name>"`. */
  watchPool(name: string, pool: () => Pool | undefined): void {
    this.pools.set(name, pool);
  }
}
