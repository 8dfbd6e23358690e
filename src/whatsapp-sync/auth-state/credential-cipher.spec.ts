import { randomBytes } from 'node:crypto';
import { CredentialCipher, CredentialsUnreadableError } from './credential-cipher';

describe('CredentialCipher', () => {
  const cipher = new CredentialCipher(randomBytes(32));
  const secret = Buffer.from('{"noiseKey":"very secret"}');

  it('round-trips, and never stores the plaintext', () => {
    const blob = cipher.encrypt(secret, 'S1:creds');
    expect(blob.includes(secret)).toBe(false);
    expect(blob.includes(Buffer.from('very secret'))).toBe(false);
    expect(cipher.decrypt(blob, 'S1:creds')).toEqual(secret);
  });

  it('uses a fresh IV every time', () => {
    expect(cipher.encrypt(secret, 'c').equals(cipher.encrypt(secret, 'c'))).toBe(false);
  });

  it('never uses an IV twice, across the draws of the IV pool, and every blob decrypts', () => {
    const ivs = new Set<string>();
    for (let i = 0; i < 1500; i++) {
      const blob = cipher.encrypt(secret, `c${i}`);
      ivs.add(blob.subarray(5, 17).toString('hex'));
      expect(cipher.decrypt(blob, `c${i}`)).toEqual(secret);
    }
    expect(ivs.size).toBe(1500);
  });

  it('refuses a blob moved to another context (session or key)', () => {
    const blob = cipher.encrypt(secret, 'S1:creds');
    expect(() => cipher.decrypt(blob, 'S2:creds')).toThrow(CredentialsUnreadableError);
  });

  it('refuses a tampered blob', () => {
    const blob = cipher.encrypt(secret, 'c');
    blob[blob.length - 1] ^= 1;
    expect(() => cipher.decrypt(blob, 'c')).toThrow('integrity');
  });

  it('names a blob written with another key as such', () => {
    const blob = new CredentialCipher(randomBytes(32)).encrypt(secret, 'c');
    expect(() => cipher.decrypt(blob, 'c')).toThrow('different CREDENTIALS_ENCRYPTION_KEY');
  });

  it('refuses garbage and keys of the wrong size', () => {
    expect(() => cipher.decrypt(Buffer.from('nope'), 'c')).toThrow(CredentialsUnreadableError);
    expect(() => new CredentialCipher(randomBytes(16))).toThrow('32 bytes');
  });
});
