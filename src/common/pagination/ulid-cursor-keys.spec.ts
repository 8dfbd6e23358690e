import fc from 'fast-check';
import { ulid } from 'ulid';
import { cursorKeysToUlid, ulidToCursorKeys } from './ulid-cursor-keys';

describe('ULID cursor keys', () => {
  it('round-trips generated ULIDs and the extremes', () => {
    for (const id of [ulid(), ulid(), '00000000000000000000000000', '7ZZZZZZZZZZZZZZZZZZZZZZZZZ', '01J9ZX8K2QHV0M3T6R7P4N5W8C']) {
      expect(cursorKeysToUlid(ulidToCursorKeys(id))).toBe(id);
    }
  });

  it('maps every pair of 64-bit keys to a ULID and back', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (high, low) => {
        const id = cursorKeysToUlid([high, low]);
        expect(id).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
        expect(ulidToCursorKeys(id!)).toEqual([high, low]);
      }),
    );
  });
});
