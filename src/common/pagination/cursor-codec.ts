import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors/app-error';
import { cursorKeysToUlid, ulidToCursorKeys } from './ulid-cursor-keys';

const VERSION = 1;
const MAC_BYTES = 16;
const KEY_BYTES = 8;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const ULID_KEYS = 2;

/** The 400 of a cursor this server did not issue for the listing (or a malformed `cursor` parameter). */
export function invalidCursor(): AppError {
  return AppError.invalidArgument('cursor is not valid for this listing', { parameter: 'cursor' });
}

/**
 * Opaque, tamper-evident keyset cursors. A cursor carries the sort key of the last row of a page
 * as signed 64-bit integers, and an HMAC over those bytes plus a scope (for example
 * `chats:<session id>`), so a cursor only works for the listing and the session that issued it.
 */
export class CursorCodec {
  constructor(private readonly secret: Buffer) {}

  encode(scope: string, keys: readonly bigint[]): string {
    const body = Buffer.alloc(1 + keys.length * KEY_BYTES);
    body.writeUInt8(VERSION, 0);
    keys.forEach((key, index) => body.writeBigInt64BE(key, 1 + index * KEY_BYTES));
    return Buffer.concat([body, this.mac(scope, body)]).toString('base64url');
  }

  /** Returns the keys, or throws 400 `invalid_argument` for anything this server did not issue for this scope. */
  decode(scope: string, cursor: string, keyCount: number): bigint[] {
    const expectedLength = 1 + keyCount * KEY_BYTES + MAC_BYTES;
    if (cursor.length !== Math.ceil((expectedLength * 4) / 3) || !BASE64URL.test(cursor)) throw invalidCursor();
    const raw = Buffer.from(cursor, 'base64url');
    if (raw.length !== expectedLength || raw.toString('base64url') !== cursor) throw invalidCursor();
    const body = raw.subarray(0, expectedLength - MAC_BYTES);
    if (!timingSafeEqual(raw.subarray(expectedLength - MAC_BYTES), this.mac(scope, body))) throw invalidCursor();
    if (body.readUInt8(0) !== VERSION) throw invalidCursor();
    return Array.from({ length: keyCount }, (_, index) => body.readBigInt64BE(1 + index * KEY_BYTES));
  }

  /** The cursor of a listing ordered by a ULID id: the id of the page's last row. */
  encodeUlid(scope: string, id: string): string {
    return this.encode(scope, ulidToCursorKeys(id));
  }

  /** The ULID id after which the next page starts, or 400 as `decode`. */
  decodeUlid(scope: string, cursor: string): string {
    const id = cursorKeysToUlid(this.decode(scope, cursor, ULID_KEYS));
    if (id === undefined) throw invalidCursor();
    return id;
  }

  private mac(scope: string, body: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(scope).update('\0').update(body).digest().subarray(0, MAC_BYTES);
  }
}
