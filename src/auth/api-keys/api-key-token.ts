import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ulid } from 'ulid';

/** `wgk_<id>_<secret>`: a recognizable prefix, the key's id (a ULID), 256 random bits. */
export const API_KEY_PREFIX = 'wgk_';
const SECRET_BYTES = 32;
const API_KEY_PATTERN = /^wgk_([0-9A-HJKMNP-TV-Z]{26})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeyParts {
  id: string;
  secret: string;
}

export function generateApiKey(): ApiKeyParts & { token: string } {
  const id = ulid();
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { id, secret, token: `${API_KEY_PREFIX}${id}_${secret}` };
}

export function parseApiKey(token: string): ApiKeyParts | undefined {
  const match = API_KEY_PATTERN.exec(token);
  return match ? { id: match[1], secret: match[2] } : undefined;
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** Constant-time comparison of a presented secret with the stored hash. */
export function secretMatches(secret: string, storedHash: Buffer): boolean {
  const presented = hashSecret(secret);
  return storedHash.length === presented.length && timingSafeEqual(presented, storedHash);
}
