import { resolveCursorParameter, resolvePageLimit } from './page-query';

describe('resolvePageLimit (the contract: missing/empty/0 -> 50, clamp to 1..200, non-integers are 400)', () => {
  it.each<[unknown, number]>([
    [undefined, 50],
    ['', 50],
    ['0', 50],
    ['-0', 50],
    ['+0', 50],
    ['1', 1],
    ['+7', 7],
    ['-7', 1],
    ['50', 50],
    ['199', 199],
    ['200', 200],
    ['201', 200],
    ['999999999999999999999999999999', 200],
    ['-999999999999999999999999999999', 1],
    ['007', 7],
  ])('%j -> %i', (raw, expected) => {
    expect(resolvePageLimit(raw)).toBe(expected);
  });

  it.each<unknown>(['abc', '1.5', '1e3', '0x10', ' 5', '5 ', '--5', '', ['1', '2'], { a: 1 }].filter((value) => value !== ''))(
    '%j is invalid_argument naming limit',
    (raw) => {
      expect(() => resolvePageLimit(raw)).toThrow(expect.objectContaining({ code: 'invalid_argument', details: { parameter: 'limit' } }));
    },
  );
});

describe('resolveCursorParameter', () => {
  it('treats missing and empty as the first page', () => {
    expect(resolveCursorParameter(undefined)).toBeUndefined();
    expect(resolveCursorParameter('')).toBeUndefined();
    expect(resolveCursorParameter('abc')).toBe('abc');
  });

  it('rejects a repeated parameter', () => {
    expect(() => resolveCursorParameter(['a', 'b'])).toThrow(expect.objectContaining({ details: { parameter: 'cursor' } }));
  });
});
