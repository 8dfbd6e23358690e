import { createCipheriv, createDecipheriv, createHmac, hkdfSync, pbkdf2, randomBytes, randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import type { BaileysKit, BinaryNode } from './baileys-kit';
import type { LinkedDevice, PhoneAccount } from './phone-account';
import {
  ADV_ACCOUNT_SIGNATURE_PREFIX,
  ADV_DEVICE_SIGNATURE_PREFIX,
  ADV_E2EE,
  ADV_SECRET_INFO,
  KeyPair,
  PAIRING_CODE_PBKDF2_ITERATIONS,
  PAIRING_KEY_BUNDLE_INFO,
  readBigEndian,
  SERVER_JID,
  signalPublicKey,
} from './protocol';

const pbkdf2Async = promisify(pbkdf2);

export class LinkingError extends Error {}

/** The registration a fresh client sent in its ClientPayload (devicePairingData). */
export interface Registration {
  eRegid?: Uint8Array | null;
  eIdent?: Uint8Array | null;
  eSkeyId?: Uint8Array | null;
  eSkeyVal?: Uint8Array | null;
  eSkeySig?: Uint8Array | null;
}

/** The companion's Signal keys from its registration, after checking that its identity signed its signed pre-key. */
export function companionKeys(kit: BaileysKit, registration: Registration) {
  const { eRegid, eIdent, eSkeyId, eSkeyVal, eSkeySig } = registration;
  if (eRegid?.length !== 4 || eIdent?.length !== 32 || eSkeyId?.length !== 3 || eSkeyVal?.length !== 32 || eSkeySig?.length !== 64) {
    throw new LinkingError('registration payload is incomplete');
  }
  if (!kit.curve.verifySignature(signalPublicKey(eIdent), signalPublicKey(eSkeyVal), eSkeySig)) {
    throw new LinkingError("the signed pre-key is not signed by the companion's identity key");
  }
  return {
    registrationId: readBigEndian(eRegid),
    identityKey: Buffer.from(eIdent),
    signedPreKey: { keyId: readBigEndian(eSkeyId), publicKey: Buffer.from(eSkeyVal), signature: Buffer.from(eSkeySig) },
  };
}

/**
 * The QR string a companion shows: ref, its noise key, its identity key, its adv secret, platform
 * (comma-separated), possibly behind a link's `#`.
 */
export function parseQr(qr: string): { ref: string; noiseKey: Buffer; identityKey: Buffer; advSecret: Buffer } {
  const parts = qr.slice(qr.lastIndexOf('#') + 1).split(',');
  if (parts.length < 4 || !parts[0]) throw new LinkingError('not a WhatsApp linking QR');
  const [ref, noise, identity, adv] = parts;
  const noiseKey = Buffer.from(noise, 'base64');
  const identityKey = Buffer.from(identity, 'base64');
  const advSecret = Buffer.from(adv, 'base64');
  if (noiseKey.length !== 32 || identityKey.length !== 32 || advSecret.length !== 32) throw new LinkingError('QR keys have the wrong length');
  return { ref, noiseKey, identityKey, advSecret };
}

/** `<iq type="set"><pair-device><ref/>…</pair-device></iq>`: the refs a companion turns into QR codes. */
export function pairDeviceOffer(refs: string[]): BinaryNode {
  return {
    tag: 'iq',
    attrs: { from: SERVER_JID, type: 'set', id: randomBytes(6).toString('hex') },
    content: [{ tag: 'pair-device', attrs: {}, content: refs.map((ref) => ({ tag: 'ref', attrs: {}, content: Buffer.from(ref) })) }],
  };
}

/**
 * The phone's side of linking a device: the signed device identity (ADV) — the account key signs
 * the device details and the companion's identity key, the whole wrapped in an HMAC under the adv
 * secret only the companion and the phone know — sent in `pair-success`.
 */
export function pairSuccess(kit: BaileysKit, account: PhoneAccount, device: LinkedDevice): { node: BinaryNode; details: Buffer } {
  const { proto, Curve } = kit.baileys;
  const details = Buffer.from(
    proto.ADVDeviceIdentity.encode({
      rawId: randomInt(1, 2 ** 31),
      timestamp: Math.floor(Date.now() / 1000),
      keyIndex: device.id,
      accountType: ADV_E2EE,
      deviceType: ADV_E2EE,
    }).finish(),
  );
  const accountSignature = Curve.sign(account.accountKey.private, Buffer.concat([ADV_ACCOUNT_SIGNATURE_PREFIX, details, device.identityKey]));
  const signed = proto.ADVSignedDeviceIdentity.encode({ details, accountSignatureKey: account.accountKey.public, accountSignature }).finish();
  const hmac = createHmac('sha256', device.advSecret).update(signed).digest();
  const container = proto.ADVSignedDeviceIdentityHMAC.encode({ details: signed, hmac, accountType: ADV_E2EE }).finish();
  const node: BinaryNode = {
    tag: 'iq',
    attrs: { from: SERVER_JID, type: 'set', id: randomBytes(6).toString('hex'), t: String(Math.floor(Date.now() / 1000)) },
    content: [
      {
        tag: 'pair-success',
        attrs: {},
        content: [
          { tag: 'device-identity', attrs: {}, content: container },
          { tag: 'platform', attrs: { name: 'android' } },
          { tag: 'device', attrs: { jid: device.jid, lid: device.lidJid } },
        ],
      },
    ],
  };
  return { node, details };
}

/** Checks the companion's `pair-device-sign`: its identity key signed the device details and the account key. */
export function verifyPairDeviceSign(kit: BaileysKit, reply: BinaryNode | undefined, device: LinkedDevice, account: PhoneAccount, details: Buffer): void {
  const { proto, getBinaryNodeChild } = kit.baileys;
  if (!reply || reply.attrs.type !== 'result')
    throw new LinkingError(`the companion did not accept pair-success (${reply ? JSON.stringify(reply.attrs) : 'connection closed'})`);
  const identityNode = getBinaryNodeChild(getBinaryNodeChild(reply, 'pair-device-sign'), 'device-identity');
  if (!(identityNode?.content instanceof Uint8Array)) throw new LinkingError('pair-device-sign carries no device identity');
  const signed = proto.ADVSignedDeviceIdentity.decode(identityNode.content);
  if (!signed.details || !Buffer.from(signed.details).equals(details)) throw new LinkingError('pair-device-sign names other device details');
  const message = Buffer.concat([ADV_DEVICE_SIGNATURE_PREFIX, details, device.identityKey, account.accountKey.public]);
  if (!signed.deviceSignature || !kit.curve.verifySignature(signalPublicKey(device.identityKey), message, signed.deviceSignature)) {
    throw new LinkingError('the device signature does not verify with the companion identity key');
  }
}

function pairingCodeKey(code: string, salt: Buffer): Promise<Buffer> {
  return pbkdf2Async(Buffer.from(code), salt, PAIRING_CODE_PBKDF2_ITERATIONS, 32, 'sha256');
}

function aesCtr(key: Buffer, iv: Buffer, data: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/**
 * The phone's half of linking with a pairing code. The companion sent its ephemeral key wrapped
 * under the code; the phone (given the code the user typed) unwraps it, wraps its own ephemeral key
 * the same way, and later opens the companion's key bundle: a wrong code gives the two sides
 * different shared keys and the bundle fails authentication.
 */
export class CodePairing {
  readonly ref = randomBytes(16).toString('base64url');
  private readonly ephemeral: KeyPair;
  private companionEphemeral?: Buffer;

  constructor(
    private readonly kit: BaileysKit,
    readonly account: PhoneAccount,
    /** salt(32) ‖ iv(16) ‖ AES-CTR(companion ephemeral public key) under PBKDF2(code). */
    private readonly wrappedCompanionEphemeral: Buffer,
  ) {
    this.ephemeral = kit.baileys.Curve.generateKeyPair();
  }

  /** The notification the phone sends once the code is typed. */
  async primaryHello(code: string): Promise<BinaryNode> {
    const wrapped = this.wrappedCompanionEphemeral;
    if (wrapped.length !== 80) throw new LinkingError('wrapped companion key has the wrong length');
    this.companionEphemeral = aesCtr(await pairingCodeKey(code, wrapped.subarray(0, 32)), wrapped.subarray(32, 48), wrapped.subarray(48, 80));
    const salt = randomBytes(32);
    const iv = randomBytes(16);
    const ownWrapped = Buffer.concat([salt, iv, aesCtr(await pairingCodeKey(code, salt), iv, Buffer.from(this.ephemeral.public))]);
    return {
      tag: 'notification',
      attrs: { from: SERVER_JID, type: 'link_code_companion_reg', id: randomBytes(6).toString('hex'), t: String(Math.floor(Date.now() / 1000)) },
      content: [
        {
          tag: 'link_code_companion_reg',
          attrs: { stage: 'primary_hello' },
          content: [
            { tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(this.ref) },
            { tag: 'primary_identity_pub', attrs: {}, content: this.account.accountKey.public },
            { tag: 'link_code_pairing_wrapped_primary_ephemeral_pub', attrs: {}, content: ownWrapped },
          ],
        },
      ],
    };
  }

  /** Opens the companion's key bundle; returns its identity key and the adv secret both sides derive. */
  finish(wrappedKeyBundle: Buffer, companionIdentity: Buffer): { identityKey: Buffer; advSecret: Buffer } {
    if (!this.companionEphemeral) throw new LinkingError('no pairing code was typed for this companion');
    if (wrappedKeyBundle.length < 32 + 12 + 16 + 96) throw new LinkingError('key bundle too short');
    const { Curve } = this.kit.baileys;
    const companionShared = Curve.sharedKey(this.ephemeral.private, this.companionEphemeral);
    const salt = wrappedKeyBundle.subarray(0, 32);
    const iv = wrappedKeyBundle.subarray(32, 44);
    const sealed = wrappedKeyBundle.subarray(44);
    const key = Buffer.from(hkdfSync('sha256', companionShared, salt, PAIRING_KEY_BUNDLE_INFO, 32));
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    let bundle: Buffer;
    try {
      bundle = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
    } catch {
      throw new LinkingError('the key bundle does not open: the pairing code was wrong');
    }
    const identityKey = bundle.subarray(0, 32);
    if (!identityKey.equals(companionIdentity)) throw new LinkingError('the key bundle names another companion identity');
    if (!bundle.subarray(32, 64).equals(Buffer.from(this.account.accountKey.public))) throw new LinkingError('the key bundle names another primary identity');
    const random = bundle.subarray(64, 96);
    const identityShared = Curve.sharedKey(this.account.accountKey.private, identityKey);
    const advSecret = Buffer.from(hkdfSync('sha256', Buffer.concat([companionShared, identityShared, random]), Buffer.alloc(0), ADV_SECRET_INFO, 32));
    return { identityKey: Buffer.from(identityKey), advSecret };
  }
}
