import { MemoryRateLimitStore } from './rate-limit-store';

describe('MemoryRateLimitStore', () => {
  it('counts each key in a fixed window and resets when the window ends', () => {
    let now = 1_000_000;
    const store = new MemoryRateLimitStore(() => now);
    expect(store.hit(['a', 'b'], 60_000)).toEqual([
      { count: 1, resetInMs: 60_000 },
      { count: 1, resetInMs: 60_000 },
    ]);
    now += 10_000;
    expect(store.hit(['a'], 60_000)).toEqual([{ count: 2, resetInMs: 50_000 }]);
    now += 50_000;
    expect(store.hit(['a'], 60_000)).toEqual([{ count: 1, resetInMs: 60_000 }]);
  });

  it('sweeps expired windows so one-off keys do not accumulate', () => {
    let now = 0;
    const store = new MemoryRateLimitStore(() => now);
    for (let i = 0; i < 100; i++) store.hit([`key-${i}`], 1000);
    expect(store.size).toBe(100);
    now = 2000;
    store.sweep();
    expect(store.size).toBe(0);
  });

  it('holds at most maxKeys windows, dropping the oldest window first', () => {
    let now = 0;
    const store = new MemoryRateLimitStore(() => now, 3);
    store.hit(['a', 'b', 'c'], 1000);
    now = 1500;
    // a's window ended and starts again: it is now the newest, so b goes when d arrives.
    store.hit(['a'], 1000);
    store.hit(['d'], 1000);
    expect(store.size).toBe(3);
    expect(store.hit(['a', 'b'], 1000)).toEqual([
      { count: 2, resetInMs: 1000 },
      { count: 1, resetInMs: 1000 },
    ]);
  });
});
