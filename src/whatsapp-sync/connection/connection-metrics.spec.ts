import { GatewayMetrics } from '../../metrics/gateway-metrics';
import type { SessionStatus } from '../../sessions/session-status';
import { registerSessionStatusGauge } from './connection-metrics';

const sample = async (metrics: GatewayMetrics, status: string) =>
  (await metrics.registry.getSingleMetric('gateway_whatsapp_sessions')!.get()).values.find((value) => value.labels.status === status)?.value;

describe('gateway_whatsapp_sessions', () => {
  it('reports every session status, 0 when none is held', async () => {
    const metrics = new GatewayMetrics();
    registerSessionStatusGauge(metrics, { statusCounts: () => ({}) });
    for (const status of ['stopped', 'connecting', 'qr_required', 'connected', 'logged_out', 'failed']) expect(await sample(metrics, status)).toBe(0);
  });

  it('reads the sessions by status from its source at each scrape, zeroing statuses that emptied', async () => {
    const metrics = new GatewayMetrics();
    let counts: Partial<Record<SessionStatus, number>> = { connected: 3, qr_required: 1 };
    registerSessionStatusGauge(metrics, { statusCounts: () => counts });
    expect(await sample(metrics, 'connected')).toBe(3);
    expect(await sample(metrics, 'qr_required')).toBe(1);
    counts = { connected: 2 };
    expect(await sample(metrics, 'connected')).toBe(2);
    expect(await sample(metrics, 'qr_required')).toBe(0);
    expect(await metrics.registry.metrics()).toContain('gateway_whatsapp_sessions{status="connected"} 2');
  });
});
