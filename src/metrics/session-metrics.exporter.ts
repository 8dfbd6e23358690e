import { Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ConnectionSupervisor } from '../whatsapp-sync/connection/connection-supervisor';
import { GatewayMetrics } from './gateway-metrics';

/**
 * Feeds `gateway_whatsapp_sessions{status}` at each scrape from the sessions this replica holds
 * (ConnectionSupervisor). A no-op when the connection module is not loaded.
 */
@Injectable()
export class SessionMetricsExporter implements OnModuleInit {
  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly metrics: GatewayMetrics,
  ) {}

  onModuleInit(): void {
    let supervisor: Pick<ConnectionSupervisor, 'statusCounts'>;
    try {
      supervisor = this.moduleRef.get(ConnectionSupervisor, { strict: false });
    } catch {
      return;
    }
    this.metrics.sessionStatusSource = () => supervisor.statusCounts();
  }
}
