/**
 * WhatsApp's protocol constants, written from the protocol (not imported from the client under
 * test, so a constant both sides got wrong cannot pass unnoticed).
 */

/** Noise pattern name, 32 bytes: it is the initial hash as is. */
export const NOISE_PROTOCOL_NAME = Buffer.from('Noise_XX_25519_AESGCM_SHA256\0\0\0\0', 'latin1');
/** The prologue a client sends before its first frame: "WA", protocol major 6, dictionary version 3. */
export const NOISE_PROLOGUE = Buffer.from([0x57, 0x41, 6, 3]);
/** The serial the intermediate certificate must name as its issuer (the root). */
export const ROOT_CERTIFICATE_SERIAL = 0;
/** Curve25519 key type byte, prefixed to public keys in Signal's serialisation. */
export const KEY_TYPE_DJB = 0x05;

/** Prefixes of the signed device-identity messages (ADV): account over device, device over account. */
export const ADV_ACCOUNT_SIGNATURE_PREFIX = Buffer.from([6, 0]);
export const ADV_DEVICE_SIGNATURE_PREFIX = Buffer.from([6, 1]);
/** ADVEncryptionType.E2EE */
export const ADV_E2EE = 0;

export type KeyPair = { public: Uint8Array; private: Uint8Array };

export const SERVER_JID = 's.whatsapp.net';

/** Stream-error / failure codes the simulator sends. */
export const STREAM_CODE = {
  /** After pairing: reconnect and log in. */
  restartRequired: 515,
  /** Login refused, or the device was removed. */
  loggedOut: 401,
} as const;

/** Pairing-code pieces (link_code_companion_reg). */
export const PAIRING_CODE_PBKDF2_ITERATIONS = 2 << 16;
export const PAIRING_KEY_BUNDLE_INFO = 'link_code_pairing_key_bundle_encryption_key';
export const ADV_SECRET_INFO = 'adv_secret';

/** How many refs a pair-device offer carries (each one QR). */
export const PAIRING_REFS = 6;

/** App-state collections a companion syncs. */
export const APP_STATE_COLLECTIONS = ['critical_block', 'critical_unblock_low', 'regular_high', 'regular_low', 'regular'] as const;
export type AppStateCollection = (typeof APP_STATE_COLLECTIONS)[number];

/** A Curve25519 public key as Signal serialises it (type byte + 32 bytes). */
export function signalPublicKey(key: Uint8Array): Buffer {
  return key.length === 33 ? Buffer.from(key) : Buffer.concat([Buffer.from([KEY_TYPE_DJB]), key]);
}

export function bigEndian(value: number, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = bytes - 1, v = value; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v & 0xff;
  return out;
}

export function readBigEndian(bytes: Uint8Array): number {
  let value = 0;
  for (const byte of bytes) value = value * 256 + byte;
  return value;
}
