import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { GatewayMetrics } from '../../metrics/gateway-metrics';

export interface SyncMetricsSnapshot {
  /** Events applied, per Baileys event name. */
  eventsApplied: Record<string, number>;
  batchesApplied: number;
  batchesFailed: number;
  /** Batch sizes in ops (one op = one chat, contact, message, mapping or deletion). */
  batchOps: { count: number; sum: number; max: number };
  /** Lag from the moment a batch reached the sink until it was stored (queue wait + writing). */
  lagMs: { last: number; max: number; sum: number; count: number };
  /** Sessions with batches waiting or being applied, and how many. */
  queueDepths: Record<string, number>;
}

/**
 * The sync's counters: in-process ones for logs and tests (snapshot), and on the gateway's
 * Prometheus registry `gateway_sync_events_processed_total{event}`, one per Baileys event per
 * applied batch.
 */
@Injectable()
export class SyncMetrics {
  private readonly eventsProcessed: Counter<'event'>;
  private readonly eventsApplied: Record<string, number> = {};
  private batchesApplied = 0;
  private batchesFailed = 0;
  private readonly batchOps = { count: 0, sum: 0, max: 0 };
  private readonly lagMs = { last: 0, max: 0, sum: 0, count: 0 };
  private depths: () => Record<string, number> = () => ({});

  constructor(metrics: GatewayMetrics) {
    this.eventsProcessed = new Counter({
      name: 'gateway_sync_events_processed_total',
      help: 'WhatsApp sync events applied to the stored copy, by event name.',
      labelNames: ['event'] as const,
      registers: [metrics.registry],
    });
  }

  observeQueue(depths: () => Record<string, number>): void {
    this.depths = depths;
  }

  batchApplied(events: string[], ops: number, lagMs: number): void {
    for (const event of events) {
      this.eventsApplied[event] = (this.eventsApplied[event] ?? 0) + 1;
      this.eventsProcessed.inc({ event });
    }
    this.batchesApplied++;
    this.batchOps.count++;
    this.batchOps.sum += ops;
    this.batchOps.max = Math.max(this.batchOps.max, ops);
    this.lagMs.last = lagMs;
    this.lagMs.max = Math.max(this.lagMs.max, lagMs);
    this.lagMs.sum += lagMs;
    this.lagMs.count++;
  }

  batchFailed(): void {
    this.batchesFailed++;
  }

  snapshot(): SyncMetricsSnapshot {
    return {
      eventsApplied: { ...this.eventsApplied },
      batchesApplied: this.batchesApplied,
      batchesFailed: this.batchesFailed,
      batchOps: { ...this.batchOps },
      lagMs: { ...this.lagMs },
      queueDepths: this.depths(),
    };
  }
}
