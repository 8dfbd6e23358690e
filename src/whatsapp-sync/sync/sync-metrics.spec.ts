import { SyncMetrics } from './sync-metrics';

describe('SyncMetrics', () => {
  it('counts events per type, batch sizes and lag, and tells subscribers about each batch', () => {
    const metrics = new SyncMetrics();
    const samples: unknown[] = [];
    metrics.subscribe((sample) => samples.push(sample));
    metrics.observeQueue(() => ({ S1: 2 }));
    metrics.batchApplied('S1', ['messages.upsert', 'chats.update'], 3, 12);
    metrics.batchApplied('S1', ['messages.upsert'], 1, 30);
    metrics.batchFailed();
    expect(metrics.snapshot()).toEqual({
      eventsApplied: { 'messages.upsert': 2, 'chats.update': 1 },
      batchesApplied: 2,
      batchesFailed: 1,
      batchOps: { count: 2, sum: 4, max: 3 },
      lagMs: { last: 30, max: 30, sum: 42, count: 2 },
      queueDepths: { S1: 2 },
    });
    expect(samples).toEqual([
      { sessionId: 'S1', events: ['messages.upsert', 'chats.update'], ops: 3, lagMs: 12 },
      { sessionId: 'S1', events: ['messages.upsert'], ops: 1, lagMs: 30 },
    ]);
  });
});
