import { Gauge } from 'prom-client';
import { GatewayMetrics } from '../../metrics/gateway-metrics';
import { SESSION_STATUSES } from '../../sessions/session-status';
import type { SessionStatus } from '../../sessions/session-status';

/** Where the counts come from: the supervisor of the sessions this replica holds. */
export interface SessionStatusCounts {
  statusCounts(): Partial<Record<SessionStatus, number>>;
}

/**
 * `gateway_whatsapp_sessions{status}`: the sessions this replica holds, by connection status, read
 * from the supervisor at each scrape (every status present, 0 when none).
 */
export function registerSessionStatusGauge(metrics: GatewayMetrics, source: SessionStatusCounts): Gauge<'status'> {
  const gauge = new Gauge({
    name: 'gateway_whatsapp_sessions',
    help: 'WhatsApp sessions held by this replica, by connection status.',
    labelNames: ['status'] as const,
    registers: [metrics.registry],
    collect() {
      const counts = source.statusCounts();
      for (const status of SESSION_STATUSES) this.set({ status }, counts[status] ?? 0);
    },
  });
  for (const status of SESSION_STATUSES) gauge.set({ status }, 0);
  return gauge;
}
