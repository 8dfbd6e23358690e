import type { GatewayMetrics } from '../metrics/gateway-metrics';
import type { RequestObserver, RequestOutcome } from './request-observer';

/** The label for requests that matched no route: the raw path would give unbounded cardinality. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Observes every request's duration once its response is sent, and counts the requests whose
 * client went away before that (they have no status and no complete duration).
 */
export class HttpMetrics implements RequestObserver {
  /** One histogram child per method/route/status, made once. */
  private readonly series = new Map<string, { observe(value: number): void }>();

  constructor(private readonly metrics: GatewayMetrics) {}

  observe(outcome: RequestOutcome): void {
    const route = outcome.route ?? UNMATCHED_ROUTE;
    if (outcome.statusCode === undefined) {
      this.metrics.httpRequestsAborted.inc({ method: outcome.method, route });
      return;
    }
    const key = `${outcome.method} ${outcome.statusCode} ${route}`;
    let child = this.series.get(key);
    if (!child) {
      child = this.metrics.httpRequestDuration.labels({ method: outcome.method, route, status_code: String(outcome.statusCode) });
      this.series.set(key, child);
    }
    child.observe((outcome.durationMs ?? 0) / 1000);
  }
}
