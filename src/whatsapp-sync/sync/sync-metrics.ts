import { Injectable } from '@nestjs/common';

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

/** One applied batch, as a metrics exporter sees it. */
export interface SyncBatchSample {
  sessionId: string;
  events: string[];
  ops: number;
  lagMs: number;
}

/**
 * In-process counters of the sync, for logs and for whatever exports metrics: an exporter (e.g.
 * a Prometheus registry) subscribes to the batches instead of the sync depending on it.
 */
@Injectable()
export class SyncMetrics {
  private readonly listeners: ((sample: SyncBatchSample) => void)[] = [];
  private readonly eventsApplied: Record<string, number> = {};
  private batchesApplied = 0;
  private batchesFailed = 0;
  private readonly batchOps = { count: 0, sum: 0, max: 0 };
  private readonly lagMs = { last: 0, max: 0, sum: 0, count: 0 };
  private depths: () => Record<string, number> = () => ({});

  observeQueue(depths: () => Record<string, number>): void {
    this.depths = depths;
  }

  /** Calls `listener` for every applied batch (after the counters are updated). */
  subscribe(listener: (sample: SyncBatchSample) => void): void {
    this.listeners.push(listener);
  }

  batchApplied(sessionId: string, events: string[], ops: number, lagMs: number): void {
    for (const event of events) this.eventsApplied[event] = (this.eventsApplied[event] ?? 0) + 1;
    this.batchesApplied++;
    this.batchOps.count++;
    this.batchOps.sum += ops;
    this.batchOps.max = Math.max(this.batchOps.max, ops);
    this.lagMs.last = lagMs;
    this.lagMs.max = Math.max(this.lagMs.max, lagMs);
    this.lagMs.sum += lagMs;
    this.lagMs.count++;
    for (const listener of this.listeners) listener({ sessionId, events, ops, lagMs });
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
