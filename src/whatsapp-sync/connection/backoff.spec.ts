import fc from 'fast-check';
import { backoffDelay, minimumBackoffDelay } from './backoff';

describe('backoffDelay', () => {
  it('doubles per attempt up to the maximum', () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => backoffDelay(attempt, 1000, 60_000, () => 1));
    expect(ceilings).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
  });

  it('never goes below half the schedule, whatever the jitter', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, random) => {
        const delay = backoffDelay(attempt, 1000, 60_000, () => random);
        expect(delay).toBeGreaterThanOrEqual(minimumBackoffDelay(attempt, 1000, 60_000));
        expect(delay).toBeLessThanOrEqual(60_000);
      }),
    );
  });

  it('survives huge attempt counts', () => {
    expect(backoffDelay(10_000, 1000, 60_000, () => 0.5)).toBe(45_000);
  });
});
