import fc from 'fast-check';
import { fairShare } from './fair-share';

describe('fairShare', () => {
  it('splits evenly, rounding up', () => {
    expect(fairShare(6, [10, 10], 10)).toBe(3);
    expect(fairShare(7, [10, 10], 10)).toBe(4);
    expect(fairShare(0, [10, 10], 10)).toBe(0);
  });

  it('gives a lone replica everything up to its capacity', () => {
    expect(fairShare(6, [10], 10)).toBe(6);
    expect(fairShare(60, [10], 10)).toBe(10);
  });

  it('lets bigger replicas carry what small ones cannot', () => {
    // 10 sessions; the small replica holds 2, the other two share the remaining 8.
    expect(fairShare(10, [2, 100, 100], 2)).toBe(2);
    expect(fairShare(10, [2, 100, 100], 100)).toBe(4);
  });

  it('counts a replica not yet in the census (itself) as nothing special', () => {
    expect(fairShare(4, [], 10)).toBe(10);
  });

  it('covers every session the capacities can cover, and never exceeds a capacity', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 8 }), (running, capacities) => {
        const shares = capacities.map((capacity) => fairShare(running, capacities, capacity));
        shares.forEach((share, index) => expect(share).toBeLessThanOrEqual(capacities[index]));
        const total = shares.reduce((sum, share) => sum + share, 0);
        expect(total).toBeGreaterThanOrEqual(
          Math.min(
            running,
            capacities.reduce((sum, capacity) => sum + capacity, 0),
          ),
        );
        // Even: shares of replicas with room differ by at most one session of rounding... and the
        // most loaded replica is never more than one above the least loaded one with spare capacity.
        const withRoom = shares.filter((share, index) => share < capacities[index]);
        if (withRoom.length > 0) expect(Math.max(...shares) - Math.min(...withRoom)).toBeLessThanOrEqual(1);
      }),
    );
  });
});
