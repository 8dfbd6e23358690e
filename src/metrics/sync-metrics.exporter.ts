import { Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { SyncMetrics } from '../whatsapp-sync/sync/sync-metrics';
import { GatewayMetrics } from './gateway-metrics';

/**
 * Feeds `gateway_sync_events_processed_total` from the sync's own counters (SyncMetrics.subscribe):
 * every applied batch counts once per Baileys event it carried. A no-op when the sync is not loaded.
 */
@Injectable()
export class SyncMetricsExporter implements OnModuleInit {
  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly metrics: GatewayMetrics,
  ) {}

  onModuleInit(): void {
    let sync: SyncMetrics;
    try {
      sync = this.moduleRef.get(SyncMetrics, { strict: false });
    } catch {
      return;
    }
    sync.subscribe(({ events }) => {
      for (const event of events) this.metrics.syncEventsProcessed.inc({ event });
    });
  }
}
