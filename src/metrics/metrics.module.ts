import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { GatewayMetrics } from './gateway-metrics';
import { MetricsController } from './metrics.controller';
import { MetricsServer } from './metrics-server';

/**
 * Prometheus metrics: GatewayMetrics (the shared registry, injectable everywhere; each module
 * registers its own metrics on it) and GET /metrics, on the API port or on METRICS_PORT alone.
 * With METRICS_ENABLED=false the metrics still exist (modules may use them) but are neither
 * measured per request (src/http/http-metrics.ts, attached by the HTTP platform) nor served.
 */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(config: AppConfig): DynamicModule {
    const served = config.metrics.enabled;
    return {
      module: MetricsModule,
      controllers: served && config.metrics.port === undefined ? [MetricsController] : [],
      providers: [GatewayMetrics, ...(served ? [MetricsServer] : [])],
      exports: [GatewayMetrics],
    };
  }

  /** The registry alone, never served: for an operator's command (the CLI), whose modules register metrics too. */
  static registryOnly(): DynamicModule {
    return { module: MetricsModule, providers: [GatewayMetrics], exports: [GatewayMetrics] };
  }
}
