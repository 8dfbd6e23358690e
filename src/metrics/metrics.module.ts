import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { GatewayMetrics } from './gateway-metrics';
import { MetricsController } from './metrics.controller';
import { MetricsServer } from './metrics-server';
import { SessionMetricsExporter } from './session-metrics.exporter';
import { SyncMetricsExporter } from './sync-metrics.exporter';

/**
 * Prometheus metrics: GatewayMetrics (injectable everywhere) and GET /metrics, on the API port or
 * on METRICS_PORT alone. With METRICS_ENABLED=false the metrics still exist (modules may use them)
 * but are neither measured per request (installHttpMetrics, attached by app.setup.ts) nor served.
 */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(config: AppConfig): DynamicModule {
    const served = config.metrics.enabled;
    return {
      module: MetricsModule,
      controllers: served && config.metrics.port === undefined ? [MetricsController] : [],
      providers: [GatewayMetrics, SyncMetricsExporter, SessionMetricsExporter, ...(served ? [MetricsServer] : [])],
      exports: [GatewayMetrics],
    };
  }
}
