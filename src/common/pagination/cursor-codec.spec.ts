import { AppError } from '../errors/app-error';
import { CursorCodec } from './cursor-codec';

describe('CursorCodec', () => {
  const codec = new CursorCodec(Buffer.from('k'.repeat(32)));
  const keys = [1_719_662_400_000n, -1n, 9_007_199_254_740_993n];

  it('round-trips signed 64-bit keys', () => {
    expect(codec.decode('chats:A', codec.encode('chats:A', keys), 3)).toEqual(keys);
    const extremes = [-(2n ** 63n), 2n ** 63n - 1n, 0n];
    expect(codec.decode('s', codec.encode('s', extremes), 3)).toEqual(extremes);
  });

  it('is URL-safe', () => {
    expect(codec.encode('chats:A', keys)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  const rejects = (scope: string, cursor: string, count = 3) => {
    let caught: unknown;
    try {
      codec.decode(scope, cursor, count);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect(caught).toMatchObject({ code: 'invalid_argument', details: { parameter: 'cursor' } });
  };

  it('rejects a cursor of another scope, another secret, or another arity', () => {
    const cursor = codec.encode('chats:A', keys);
    rejects('chats:B', cursor);
    rejects('chats:A', new CursorCodec(Buffer.from('x'.repeat(32))).encode('chats:A', keys));
    rejects('chats:A', codec.encode('chats:A', [1n, 2n]));
  });

  it('rejects every single-bit change', () => {
    const raw = Buffer.from(codec.encode('chats:A', keys), 'base64url');
    for (let byte = 0; byte < raw.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const changed = Buffer.from(raw);
        changed[byte] ^= 1 << bit;
        rejects('chats:A', changed.toString('base64url'));
      }
    }
  });

  it('rejects malformed text', () => {
    const cursor = codec.encode('chats:A', keys);
    for (const bad of ['', '!!!', cursor.slice(1), `${cursor}=`, `${cursor}A`, cursor.replace(/.$/, '+'), ' '.repeat(cursor.length)]) {
      rejects('chats:A', bad);
    }
  });
});
