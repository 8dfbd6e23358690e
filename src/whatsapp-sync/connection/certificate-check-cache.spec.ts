import { loadBaileys } from '../sync/baileys';
import { rememberCertificateChecks, VerifyingCurve } from './certificate-check-cache';

interface LibsignalCurve {
  verifySignature(publicKey33: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

/** A curve whose verify is libsignal's real check (false for a wrong signature), counting its calls. */
async function countingCurve(): Promise<VerifyingCurve & { calls: number }> {
  const { generateSignalPubKey } = await loadBaileys();
  const libsignal = (await import('libsignal/src/curve.js')) as unknown as LibsignalCurve;
  const curve = {
    calls: 0,
    verify: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => {
      curve.calls++;
      return libsignal.verifySignature(generateSignalPubKey(publicKey), message, signature);
    },
  };
  return curve;
}

describe('certificate checks remembered', () => {
  it('checks a key, message and signature once, and any change in full', async () => {
    const { Curve } = await loadBaileys();
    const signer = Curve.generateKeyPair();
    const details = Buffer.from('certificate details');
    const signature = Curve.sign(signer.private, details);
    const curve = await countingCurve();
    rememberCertificateChecks(curve);

    expect(curve.verify(signer.public, details, signature)).toBe(true);
    expect(curve.verify(signer.public, details, signature)).toBe(true);
    expect(curve.calls).toBe(1);

    const tampered = Buffer.from(details);
    tampered[0] ^= 1;
    expect(curve.verify(signer.public, tampered, signature)).toBe(false);
    expect(curve.verify(signer.public, tampered, signature)).toBe(false);
    expect(curve.calls).toBe(2);
    const other = Curve.generateKeyPair();
    expect(curve.verify(other.public, details, signature)).toBe(false);
    expect(curve.calls).toBe(3);
  });

  it('wraps a curve once, however often it is asked', async () => {
    const { Curve } = await loadBaileys();
    const signer = Curve.generateKeyPair();
    const signature = Curve.sign(signer.private, Buffer.from('x'));
    const curve = await countingCurve();
    rememberCertificateChecks(curve);
    const wrapped = curve.verify;
    rememberCertificateChecks(curve);
    expect(curve.verify).toBe(wrapped);
    curve.verify(signer.public, Buffer.from('x'), signature);
    curve.verify(signer.public, Buffer.from('x'), signature);
    expect(curve.calls).toBe(1);
  });

  it('forgets the oldest answers past its bound, and checks them again', () => {
    // A cheap check of its own here (libsignal's takes tens of milliseconds under Jest): the cache is what is tested.
    const curve = { calls: 0, verify: (_key: Uint8Array, message: Uint8Array, signature: Uint8Array) => (curve.calls++, message[0] === signature[0]) };
    rememberCertificateChecks(curve);
    const key = Buffer.from('key');
    const messages = Array.from({ length: 65 }, (_, i) => Buffer.from(`message ${i}`));
    messages.forEach((message) => expect(curve.verify(key, message, message)).toBe(true));
    expect(curve.calls).toBe(65);
    curve.verify(key, messages[64], messages[64]);
    expect(curve.calls).toBe(65);
    curve.verify(key, messages[0], messages[0]);
    expect(curve.calls).toBe(66);
  });
});
