import type { BinaryNode } from 'baileys' with { 'resolution-mode': 'import' };

export type { BinaryNode };
// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- typescript-eslint cannot resolve an import type with resolution-mode (an ESM-only package); tsc checks it
export type Baileys = typeof import('baileys', { with: { 'resolution-mode': 'import' } });
// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- typescript-eslint cannot resolve an import type with resolution-mode (an ESM-only package); tsc checks it
type SignalModule = typeof import('baileys/lib/Signal/libsignal.js', { with: { 'resolution-mode': 'import' } });

/** libsignal's curve functions, the ones whose results the simulator reads itself. */
export interface SignalCurve {
  /** Returns false for a wrong signature (Baileys' Curve.verify ignores that result: the simulator must not). */
  verifySignature(publicKey33: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

/**
 * The building blocks the simulator borrows from Baileys (ESM-only, loaded with a real dynamic
 * import once): binary node codec, proto, Curve, the signal repository and the syncd patch
 * encoder. The protocol logic around them (handshake, pairing, checks) is the simulator's own.
 */
export interface BaileysKit {
  baileys: Baileys;
  makeSignalRepository: SignalModule['makeLibSignalRepository'];
  curve: SignalCurve;
}

let loading: Promise<BaileysKit> | undefined;

export function loadBaileysKit(): Promise<BaileysKit> {
  loading ??= (async () => {
    // One after the other: Jest's ESM loader fails on parallel imports sharing modules.
    const baileys = await import('baileys');
    const signal = await import('baileys/lib/Signal/libsignal.js');
    const curve = (await import('libsignal/src/curve.js')) as unknown as SignalCurve;
    return { baileys, makeSignalRepository: signal.makeLibSignalRepository, curve };
  })();
  return loading;
}
