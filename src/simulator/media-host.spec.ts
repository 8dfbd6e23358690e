import { createCipheriv, createHash, createHmac, randomBytes, X509Certificate } from 'node:crypto';
import { decryptMedia, selfSignedCertificate } from './media-host';

describe('the simulated media host', () => {
  it('makes a self-signed certificate for its address that verifies against itself', () => {
    const { certificatePem } = selfSignedCertificate('127.0.0.1');
    const certificate = new X509Certificate(certificatePem);
    expect(certificate.subjectAltName).toBe('IP Address:127.0.0.1');
    expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(new Date(certificate.validFrom).getTime()).toBeLessThan(Date.now());
    expect(new Date(certificate.validTo).getTime()).toBeGreaterThan(Date.now() + 300 * 86_400_000);
  });

  it('makes a certificate OpenSSL loads whatever the random serial bytes (a zero or sign-bit first byte included)', () => {
    for (const first of [0x00, 0x01, 0x7f, 0x80, 0xff]) {
      for (const second of [0x00, 0x7f, 0x80, 0xff]) {
        const serialBytes = Buffer.concat([Buffer.from([first, second]), randomBytes(14)]);
        const certificate = new X509Certificate(selfSignedCertificate('127.0.0.1', serialBytes).certificatePem);
        expect(certificate.verify(certificate.publicKey)).toBe(true);
        expect(parseInt(certificate.serialNumber.slice(0, 2), 16)).toBeGreaterThanOrEqual(0x01);
      }
    }
  });

  it("decrypts a file encrypted as WhatsApp's clients do, and refuses one whose MAC or hash does not match", () => {
    const plain = randomBytes(5000);
    const mediaKey = randomBytes(32);
    // HKDF-SHA256 (empty salt) of the media key to 112 bytes: IV, cipher key, MAC key.
    const prk = createHmac('sha256', Buffer.alloc(32)).update(mediaKey).digest();
    let block = Buffer.alloc(0);
    const blocks: Buffer[] = [];
    for (let i = 1; i <= 4; i++)
      blocks.push(
        (block = createHmac('sha256', prk)
          .update(Buffer.concat([block, Buffer.from('WhatsApp Image Keys'), Buffer.from([i])]))
          .digest()),
      );
    const expanded = Buffer.concat(blocks);
    const [iv, cipherKey, macKey] = [expanded.subarray(0, 16), expanded.subarray(16, 48), expanded.subarray(48, 80)];
    const cipher = createCipheriv('aes-256-cbc', cipherKey, iv);
    const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
    const encrypted = Buffer.concat([ciphertext, createHmac('sha256', macKey).update(iv).update(ciphertext).digest().subarray(0, 10)]);
    const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest();
    const media = { mediaKey, fileEncSha256: sha(encrypted), fileSha256: sha(plain) };
    expect(decryptMedia(encrypted, media, 'image').equals(plain)).toBe(true);
    const tampered = Buffer.from(encrypted);
    tampered[10] ^= 1;
    expect(() => decryptMedia(tampered, { ...media, fileEncSha256: sha(tampered) }, 'image')).toThrow('the media MAC does not match');
    expect(() => decryptMedia(encrypted, { ...media, fileSha256: sha(tampered) }, 'image')).toThrow('the decrypted file does not match fileSha256');
    expect(() => decryptMedia(encrypted, media, 'video')).toThrow();
  });
});
