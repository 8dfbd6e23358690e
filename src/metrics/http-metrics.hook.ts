import type { FastifyInstance } from 'fastify';
import { routePattern } from '../common/http/route-pattern';
import { GatewayMetrics } from './gateway-metrics';

/** The label for requests that matched no route: the raw path would give unbounded cardinality. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Observes every request's duration once its response is sent, and counts the requests whose
 * client went away before that (they have no status and no complete duration).
 */
export function installHttpMetrics(fastify: FastifyInstance, metrics: GatewayMetrics): void {
  // One histogram child per method/route/status, made once.
  const series = new Map<string, { observe(value: number): void }>();
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = routePattern(request) ?? UNMATCHED_ROUTE;
    const key = `${request.method} ${reply.statusCode} ${route}`;
    let child = series.get(key);
    if (!child) {
      child = metrics.httpRequestDuration.labels({ method: request.method, route, status_code: String(reply.statusCode) });
      series.set(key, child);
    }
    child.observe(reply.elapsedTime / 1000);
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    metrics.httpRequestsAborted.inc({ method: request.method, route: routePattern(request) ?? UNMATCHED_ROUTE });
    done();
  });
}
