import { decodeTime } from 'ulid';
import { newUlid } from './ulid';

describe('newUlid', () => {
  it('makes ULIDs of the current time, all different, over more than one refill of its random pool', () => {
    const before = Date.now();
    const ids = Array.from({ length: 2000 }, () => newUlid());
    const after = Date.now();
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(decodeTime(id)).toBeGreaterThanOrEqual(before);
      expect(decodeTime(id)).toBeLessThanOrEqual(after);
    }
  });

  it('uses every one of the 32 characters about equally in the random part', () => {
    const counts = new Map<string, number>();
    const ids = 5000;
    for (let i = 0; i < ids; i++) for (const char of newUlid().slice(10)) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect(counts.size).toBe(32);
    // 80,000 characters: 2,500 expected each; a biased draw (say one character never or twice as often) falls far outside.
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(2200);
      expect(count).toBeLessThan(2800);
    }
  });
});
