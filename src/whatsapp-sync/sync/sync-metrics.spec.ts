import { GatewayMetrics } from '../../metrics/gateway-metrics';
import { SyncMetrics } from './sync-metrics';

describe('SyncMetrics', () => {
  it('counts events per type, batch sizes and lag, and each event on the Prometheus registry', async () => {
    const gateway = new GatewayMetrics();
    const metrics = new SyncMetrics(gateway);
    metrics.observeQueue(() => ({ S1: 2 }));
    metrics.batchApplied(['messages.upsert', 'chats.update'], 3, 12);
    metrics.batchApplied(['messages.upsert'], 1, 30);
    metrics.batchFailed();
    expect(metrics.snapshot()).toEqual({
      eventsApplied: { 'messages.upsert': 2, 'chats.update': 1 },
      batchesApplied: 2,
      batchesFailed: 1,
      batchOps: { count: 2, sum: 4, max: 3 },
      lagMs: { last: 30, max: 30, sum: 42, count: 2 },
      queueDepths: { S1: 2 },
    });
    const text = await gateway.registry.metrics();
    expect(text).toContain('gateway_sync_events_processed_total{event="messages.upsert"} 2');
    expect(text).toContain('gateway_sync_events_processed_total{event="chats.update"} 1');
  });
});
