const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * A ULID as the two signed 64-bit keys CursorCodec carries (its 128 bits, high half first), and
 * back. Lets keyset listings ordered by a ULID id reuse the signed cursor format.
 */
export function ulidToCursorKeys(id: string): [bigint, bigint] {
  if (!ULID.test(id)) throw new Error(`not a canonical ULID: ${id}`);
  let value = 0n;
  for (const char of id) value = (value << 5n) | BigInt(CROCKFORD.indexOf(char));
  return [BigInt.asIntN(64, value >> 64n), BigInt.asIntN(64, value)];
}

export function cursorKeysToUlid([high, low]: readonly bigint[]): string | undefined {
  let value = (BigInt.asUintN(64, high) << 64n) | BigInt.asUintN(64, low);
  let id = '';
  for (let i = 0; i < 26; i++) {
    id = CROCKFORD[Number(value & 31n)] + id;
    value >>= 5n;
  }
  // 26 base-32 digits hold 130 bits; a valid ULID's top digit is at most 7 (128 bits).
  return value === 0n && ULID.test(id) && id[0] <= '7' ? id : undefined;
}
