import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { routePattern } from '../common/http/route-pattern';
import { GatewayMetrics } from './gateway-metrics';

/** The label for requests that matched no route: the raw path would give unbounded cardinality. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Observes every request's duration when its response finishes (or its connection closes first). */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: GatewayMetrics) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const startedAt = process.hrtime.bigint();
    let observed = false;
    const observe = () => {
      if (observed) return;
      observed = true;
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      this.metrics.httpRequestDuration.observe(
        { method: request.method, route: routePattern(request) ?? UNMATCHED_ROUTE, status_code: String(response.statusCode) },
        seconds,
      );
    };
    response.once('finish', observe);
    response.once('close', observe);
    next();
  }
}
