import { DynamicModule, Global, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { GatewayMetrics } from './gateway-metrics';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { MetricsController } from './metrics.controller';
import { MetricsServer } from './metrics-server';
import { SessionMetricsExporter } from './session-metrics.exporter';
import { SyncMetricsExporter } from './sync-metrics.exporter';

/**
 * Prometheus metrics: GatewayMetrics (injectable everywhere) and GET /metrics, on the API port or
 * on METRICS_PORT alone. With METRICS_ENABLED=false the metrics still exist (modules may use them)
 * but are neither measured per request nor served.
 */
@Global()
@Module({})
export class MetricsModule implements NestModule {
  constructor(private readonly config: AppConfig) {}

  static forRoot(config: AppConfig): DynamicModule {
    const served = config.metrics.enabled;
    return {
      module: MetricsModule,
      controllers: served && config.metrics.port === undefined ? [MetricsController] : [],
      providers: [GatewayMetrics, SyncMetricsExporter, SessionMetricsExporter, ...(served ? [MetricsServer] : [])],
      exports: [GatewayMetrics],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    if (this.config.metrics.enabled) consumer.apply(HttpMetricsMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
