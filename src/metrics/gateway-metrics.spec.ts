import { GatewayMetrics } from './gateway-metrics';

const sample = async (metrics: GatewayMetrics, status: string) =>
  (await metrics.sessionsByStatus.get()).values.find((value) => value.labels.status === status)?.value;

describe('GatewayMetrics', () => {
  it('reports every session status, 0 when none is held', async () => {
    const metrics = new GatewayMetrics({ driver: {} } as never);
    for (const status of ['stopped', 'connecting', 'qr_required', 'connected', 'logged_out', 'failed']) expect(await sample(metrics, status)).toBe(0);
  });

  it('reads the sessions by status from its source at each scrape, zeroing statuses that emptied', async () => {
    const metrics = new GatewayMetrics({ driver: {} } as never);
    let counts: Record<string, number> = { connected: 3, qr_required: 1 };
    metrics.sessionStatusSource = () => counts;
    expect(await sample(metrics, 'connected')).toBe(3);
    expect(await sample(metrics, 'qr_required')).toBe(1);
    counts = { connected: 2 };
    expect(await sample(metrics, 'connected')).toBe(2);
    expect(await sample(metrics, 'qr_required')).toBe(0);
    expect(await metrics.registry.metrics()).toContain('gateway_whatsapp_sessions{status="connected"} 2');
  });
});
