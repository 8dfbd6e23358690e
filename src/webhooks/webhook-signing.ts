import { createHmac, randomBytes } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;

/** A new signing secret (its raw bytes). */
export function newSigningKey(): Buffer {
  return randomBytes(SECRET_BYTES);
}

/** The form receivers configure, as the Standard Webhooks libraries read it: `whsec_` + base64 of the key. */
export function formatSecret(key: Buffer): string {
  return `${SECRET_PREFIX}${key.toString('base64')}`;
}

/**
 * The Standard Webhooks headers of one delivery: the signature header lists one
 * `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` per key, space-separated (the current key, and
 * the previous one while a rotation overlaps), so a receiver with either secret verifies it. The
 * HMAC is node:crypto's, not the `standardwebhooks` package's pure-JavaScript one (42 against
 * 10 µs per delivery); the tests verify real deliveries with that package, and a unit test holds
 * the two together.
 */
export function signedHeaders(keys: readonly Buffer[], messageId: string, timestamp: Date, body: string): Record<string, string> {
  const seconds = String(Math.floor(timestamp.getTime() / 1000));
  const signed = `${messageId}.${seconds}.${body}`;
  return {
    'webhook-id': messageId,
    'webhook-timestamp': seconds,
    'webhook-signature': keys.map((key) => `v1,${createHmac('sha256', key).update(signed).digest('base64')}`).join(' '),
  };
}
