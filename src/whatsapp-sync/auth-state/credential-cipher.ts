import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 1;
const KEY_ID_BYTES = 4;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES + IV_BYTES + TAG_BYTES;

/** Stored credentials could not be decrypted: another key, or tampered with. */
export class CredentialsUnreadableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsUnreadableError';
  }
}

/**
 * AES-256-GCM for WhatsApp credentials at rest. A blob is
 * `version (1) | key id (4) | iv (12) | tag (16) | ciphertext`, where the key id is the start of
 * SHA-256(key), so a blob written with another key is recognised as such. The caller binds each
 * blob to where it belongs (session, key type and id) as additional authenticated data: a row
 * copied to another session or key does not decrypt.
 */
export class CredentialCipher {
  private readonly keyId: Buffer;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the credentials encryption key must be 32 bytes');
    this.keyId = createHash('sha256').update(key).digest().subarray(0, KEY_ID_BYTES);
  }

  encrypt(plaintext: Buffer, context: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), this.keyId, iv, cipher.getAuthTag(), ciphertext]);
  }

  decrypt(blob: Buffer, context: string): Buffer {
    if (blob.length < HEADER_BYTES || blob[0] !== VERSION) throw new CredentialsUnreadableError('stored credentials are not in a known format');
    if (!blob.subarray(1, 1 + KEY_ID_BYTES).equals(this.keyId)) {
      throw new CredentialsUnreadableError('stored credentials were encrypted with a different CREDENTIALS_ENCRYPTION_KEY');
    }
    const iv = blob.subarray(1 + KEY_ID_BYTES, 1 + KEY_ID_BYTES + IV_BYTES);
    const tag = blob.subarray(1 + KEY_ID_BYTES + IV_BYTES, HEADER_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(blob.subarray(HEADER_BYTES)), decipher.final()]);
    } catch {
      throw new CredentialsUnreadableError('stored credentials failed their integrity check');
    }
  }
}
