import type { FastifyInstance } from 'fastify';
import { routePattern } from '../common/http/route-pattern';
import { GatewayMetrics } from './gateway-metrics';

/** The label for requests that matched no route: the raw path would give unbounded cardinality. */
export const UNMATCHED_ROUTE = 'unmatched';

/** The status label of a request whose client went away before the response was sent (nginx's convention). */
export const CLIENT_CLOSED_REQUEST = '499';

const RECEIVED_AT = Symbol('receivedAt');
type Timed = { [RECEIVED_AT]?: number };

/** Observes every request's duration once its response is sent, or when the client went away first. */
export function installHttpMetrics(fastify: FastifyInstance, metrics: GatewayMetrics): void {
  // One histogram child per method/route/status: prom-client then skips hashing the labels on every request.
  const series = new Map<string, { observe(value: number): void }>();
  const observe = (method: string, route: string, status: string, seconds: number) => {
    const key = `${method} ${status} ${route}`;
    let child = series.get(key);
    if (!child) {
      child = metrics.httpRequestDuration.labels({ method, route, status_code: status });
      series.set(key, child);
    }
    child.observe(seconds);
  };
  fastify.addHook('onResponse', (request, reply, done) => {
    observe(request.method, routePattern(request) ?? UNMATCHED_ROUTE, String(reply.statusCode), reply.elapsedTime / 1000);
    done();
  });
  // An aborted request has no reply to time it: its start is noted on arrival.
  fastify.addHook('onRequest', (request, _reply, done) => {
    (request as Timed)[RECEIVED_AT] = performance.now();
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    const seconds = (performance.now() - ((request as Timed)[RECEIVED_AT] ?? performance.now())) / 1000;
    observe(request.method, routePattern(request) ?? UNMATCHED_ROUTE, CLIENT_CLOSED_REQUEST, seconds);
    done();
  });
}
