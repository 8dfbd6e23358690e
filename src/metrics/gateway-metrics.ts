import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Seconds; from a cached API-key read on loopback (~1 ms) to a request stuck on a database timeout. */
const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The gateway's Prometheus registry, one per app instance (so two apps in one process, as in tests,
 * never collide), with the process's default metrics and the HTTP metrics every request feeds.
 * Each feature module registers its own metrics on `registry` (pass `registers: [registry]`):
 * the database its pool gauges, the rate limiter its refusals, the WhatsApp connection its
 * sessions by status, the sync its applied events. This module imports none of them.
 */
@Injectable()
export class GatewayMetrics {
  readonly registry = new Registry();

  /** HTTP request duration by method, route pattern (never the raw URL) and status code. */
  readonly httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [this.registry],
  });

  /** Requests whose client hung up before the response was sent, by method and route pattern. */
  readonly httpRequestsAborted = new Counter({
    name: 'http_requests_aborted_total',
    help: 'HTTP requests whose client closed the connection before the response was sent, by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
