import fc from 'fast-check';

/**
 * fast-check generators for the property tests of paged endpoints (List chats, List messages):
 * every kind of limit, cursor and path segment a client could send.
 */

export const anyText = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme-composite' }));

export const anyLimit = fc.oneof(fc.integer().map(String), fc.bigInt().map(String), anyText, fc.constantFrom('', '0', '-0', '+5', '1e3', '1.5', ' 5'));

/** Any text, base64, empty, a valid cursor, and a valid cursor with one byte flipped (read when generated). */
export function anyCursor(validCursor: () => string): fc.Arbitrary<string> {
  return fc.oneof(
    anyText,
    fc.base64String(),
    fc.constant(''),
    fc.constant(null).map(() => validCursor()),
    fc.nat({ max: 60 }).map((index) => {
      const bytes = Buffer.from(validCursor(), 'base64url');
      bytes[index % bytes.length] ^= 0xff;
      return bytes.toString('base64url');
    }),
  );
}

/**
 * A path segment: `SELF` (the caller's own id, see `segmentValue`), any text, an id of the right
 * shape, and `raw:` ones sent as they are (broken escapes included).
 */
export function anySegment(...more: fc.Arbitrary<string>[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constant('SELF'),
    anyText.filter((text) => text.length > 0),
    fc.stringMatching(/^[0-9A-Z]{26}$/),
    fc.stringMatching(/^[%0-9A-Fa-z]{1,12}$/).map((text) => `raw:${text}`),
    ...more,
  );
}

/** What a generated segment puts in the path: the caller's own id, the raw text, or the text percent-encoded. */
export function segmentValue(generated: string, self: () => string): string {
  if (generated === 'SELF') return self();
  return generated.startsWith('raw:') ? generated.slice(4) : encodeURIComponent(generated);
}

/** A 200, or a 4xx with the error envelope. */
export function expectPageOrClientError(response: { status: number; body: any }): void {
  if (response.status === 200) return;
  expect(response.status).toBeGreaterThanOrEqual(400);
  expect(response.status).toBeLessThan(500);
  expect(response.body).toEqual({ error: { code: expect.any(String), message: expect.any(String), details: expect.any(Object) } });
}
