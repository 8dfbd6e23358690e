import { randomFillSync } from 'node:crypto';
import { factory } from 'ulid';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let next = POOL_BYTES;

/**
 * One of the 32 ULID characters, uniformly, from the same source as ulid's default (the operating
 * system's CSPRNG), drawn from a pooled buffer: ulid's default asks crypto.randomBytes(1) for each
 * character, 16 calls per id, which was 8% of a replica's CPU when it created deliveries by the
 * thousand. `factory` maps the value v to character floor(32 v), so v = k / 32 gives character k.
 */
function pooledRandom(): number {
  if (next === POOL_BYTES) {
    randomFillSync(pool);
    next = 0;
  }
  return (pool[next++] & 31) / 32;
}

/** A new ULID (time-ordered, 80 random bits), cheap enough to make thousands at a time. */
export const newUlid: () => string = factory(pooledRandom);
