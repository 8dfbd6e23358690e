import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { routePattern } from '../common/http/route-pattern';
import { GatewayMetrics } from './gateway-metrics';

/** The label for requests that matched no route: the raw path would give unbounded cardinality. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Observes every request's duration when its response closes (after it finished, or when the connection dropped first). */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  /** One histogram child per method/route/status: prom-client then skips hashing the labels on every request. */
  private readonly series = new Map<string, { observe(value: number): void }>();

  constructor(private readonly metrics: GatewayMetrics) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const startedAt = process.hrtime.bigint();
    response.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      const route = routePattern(request) ?? UNMATCHED_ROUTE;
      const key = `${request.method} ${response.statusCode} ${route}`;
      let series = this.series.get(key);
      if (!series) {
        series = this.metrics.httpRequestDuration.labels({ method: request.method, route, status_code: String(response.statusCode) });
        this.series.set(key, series);
      }
      series.observe(seconds);
    });
    next();
  }
}
