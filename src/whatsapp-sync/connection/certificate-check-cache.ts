import { createHash } from 'node:crypto';

type Verify = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

/** The part of Baileys' `Curve` whose `verify` is remembered. */
export interface VerifyingCurve {
  verify: Verify;
}

const REMEMBERED = Symbol('gateway: certificate checks remembered');
/** Server certificates and the keys that sign them: a handful, however many sessions connect. */
const MAX_ENTRIES = 64;

/**
 * Every connection's Noise handshake has Baileys check the server's certificate chain: two XEdDSA
 * signatures verified in pure JavaScript (curve25519-js), about 15 ms of CPU per login, most of a
 * reconnect's cost. The chain is the same bytes for every connection to the same server, so the
 * answer for the same key, message and signature is remembered and given again; anything else
 * (another chain, a changed byte) is checked in full. Baileys' own answer is kept, whatever it is.
 */
export function rememberCertificateChecks(curve: VerifyingCurve): void {
  const current = curve.verify as Verify & { [REMEMBERED]?: true };
  if (current[REMEMBERED]) return;
  const answers = new Map<string, boolean>();
  const remembered: Verify & { [REMEMBERED]?: true } = (publicKey, message, signature) => {
    const key = fingerprint(publicKey, message, signature);
    const known = answers.get(key);
    if (known !== undefined) return known;
    const answer = current(publicKey, message, signature);
    if (answers.size >= MAX_ENTRIES) answers.delete(answers.keys().next().value!);
    answers.set(key, answer);
    return answer;
  };
  remembered[REMEMBERED] = true;
  curve.verify = remembered;
}

function fingerprint(...parts: Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(part.length);
    hash.update(length).update(part);
  }
  return hash.digest('base64');
}
