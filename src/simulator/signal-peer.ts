import { randomInt } from 'node:crypto';
import pino from 'pino';
import type { BaileysKit } from './baileys-kit';
import { KeyPair, signalPublicKey } from './protocol';

/** What the simulator holds of a linked device's Signal keys (from its registration and uploads). */
export interface DeviceKeys {
  jid: string;
  registrationId: number;
  identityKey: Uint8Array;
  signedPreKey: { keyId: number; publicKey: Uint8Array; signature: Uint8Array };
  /** One-time pre-keys uploaded and not handed out yet. */
  preKeys: Map<number, Uint8Array>;
}

/** What a peer publishes for others to open a Signal session with it (WhatsApp's pre-key bundle). */
export interface PreKeyBundle {
  registrationId: number;
  /** 32-byte Curve25519 public keys, as WhatsApp's key answer carries them. */
  identityKey: Buffer;
  signedPreKey: { keyId: number; publicKey: Buffer; signature: Buffer };
  preKey: { keyId: number; publicKey: Buffer };
}

export interface Ciphertext {
  type: 'pkmsg' | 'msg';
  ciphertext: Buffer;
}

type Repository = ReturnType<BaileysKit['makeSignalRepository']>;
type Store = Record<string, Record<string, unknown>>;

const silent = pino({ level: 'silent' });

/** Random padding of 1..16 bytes, each holding the count (as WhatsApp pads a message before encrypting it). */
export function padMessage(plaintext: Uint8Array): Buffer {
  const count = randomInt(1, 17);
  return Buffer.concat([plaintext, Buffer.alloc(count, count)]);
}

export function unpadMessage(padded: Uint8Array): Buffer {
  const count = padded[padded.length - 1];
  if (!count || count > padded.length) throw new Error('invalid message padding');
  return Buffer.from(padded.subarray(0, padded.length - count));
}

/**
 * One simulated WhatsApp user's device (a contact's phone, or the account's own phone) with its
 * own Signal state in memory: it opens sessions to linked devices from their published pre-key
 * bundles and encrypts to them (1:1 and sender keys for groups).
 */
export class SignalPeer {
  private readonly repository: Repository;
  private readonly creds: ReturnType<BaileysKit['baileys']['initAuthCreds']>;
  private readonly keys = memoryKeyStore();
  private nextPreKeyId = 1;

  constructor(
    private readonly kit: BaileysKit,
    /** The peer's own device jid (e.g. 14155550101@s.whatsapp.net, device 0). */
    readonly jid: string,
    identity?: KeyPair,
  ) {
    const fresh = kit.baileys.initAuthCreds();
    // A given identity signs its own signed pre-key (the fresh one was signed by the fresh identity).
    this.creds = identity ? { ...fresh, signedIdentityKey: identity, signedPreKey: kit.baileys.signedKeyPair(identity, 1) } : fresh;
    this.repository = kit.makeSignalRepository({ creds: this.creds, keys: this.keys } as never, silent);
  }

  /** A bundle with a fresh one-time pre-key (kept until a pkmsg uses it), as WhatsApp's server hands out for this peer. */
  async preKeyBundle(): Promise<PreKeyBundle> {
    const keyId = this.nextPreKeyId++;
    const keyPair = this.kit.baileys.Curve.generateKeyPair();
    await this.keys.set({ 'pre-key': { [String(keyId)]: keyPair } });
    const { signedIdentityKey, signedPreKey, registrationId } = this.creds;
    return {
      registrationId,
      identityKey: Buffer.from(signedIdentityKey.public),
      signedPreKey: { keyId: signedPreKey.keyId, publicKey: Buffer.from(signedPreKey.keyPair.public), signature: Buffer.from(signedPreKey.signature) },
      preKey: { keyId, publicKey: Buffer.from(keyPair.public) },
    };
  }

  /** Encrypts `message` (a proto.Message) to a linked device, opening a session from its bundle first if there is none. */
  async encryptTo(device: DeviceKeys, message: Uint8Array): Promise<Ciphertext> {
    await this.ensureSession(device);
    const { type, ciphertext } = await this.repository.encryptMessage({ jid: device.jid, data: padMessage(message) });
    return { type: type, ciphertext: Buffer.from(ciphertext) };
  }

  /** A group message under this peer's sender key, and the distribution message for it. */
  async encryptForGroup(group: string, message: Uint8Array): Promise<{ ciphertext: Buffer; senderKeyDistribution: Buffer }> {
    const { ciphertext, senderKeyDistributionMessage } = await this.repository.encryptGroupMessage({
      group,
      meId: this.jid,
      data: padMessage(message),
    });
    return { ciphertext: Buffer.from(ciphertext), senderKeyDistribution: Buffer.from(senderKeyDistributionMessage) };
  }

  /** Decrypts what a linked device sent this peer (pkmsg or msg); returns the unpadded proto.Message bytes. */
  async decryptFrom(deviceJid: string, type: 'pkmsg' | 'msg', ciphertext: Uint8Array): Promise<Buffer> {
    const plaintext = await this.repository.decryptMessage({ jid: deviceJid, type, ciphertext });
    return unpadMessage(plaintext);
  }

  /** Takes a group sender's key (from a sender-key distribution message it sent this peer). */
  async receiveSenderKey(group: string, authorJid: string, distribution: Uint8Array): Promise<void> {
    await this.repository.processSenderKeyDistributionMessage({ item: { groupId: group, axolotlSenderKeyDistributionMessage: distribution }, authorJid });
  }

  /** Decrypts a group message (skmsg) under the author's sender key; returns the unpadded proto.Message bytes. */
  async decryptFromGroup(group: string, authorJid: string, ciphertext: Uint8Array): Promise<Buffer> {
    return unpadMessage(await this.repository.decryptGroupMessage({ group, authorJid, msg: ciphertext }));
  }

  /** Forgets the session with a device (it was unlinked). */
  async forget(deviceJid: string): Promise<void> {
    await this.repository.deleteSession([deviceJid]);
  }

  private async ensureSession(device: DeviceKeys): Promise<void> {
    if (await this.repository.getSessionInfo(device.jid)) return;
    const next = device.preKeys.entries().next();
    const preKey = next.done ? undefined : { keyId: next.value[0], publicKey: signalPublicKey(next.value[1]) };
    if (preKey) device.preKeys.delete(preKey.keyId);
    await this.repository.injectE2ESession({
      jid: device.jid,
      session: {
        registrationId: device.registrationId,
        identityKey: signalPublicKey(device.identityKey),
        signedPreKey: {
          keyId: device.signedPreKey.keyId,
          publicKey: signalPublicKey(device.signedPreKey.publicKey),
          signature: device.signedPreKey.signature,
        },
        preKey: preKey,
      },
    });
  }
}

/** Baileys' SignalKeyStore over plain maps, with the transaction shape the repository calls. */
function memoryKeyStore() {
  const data: Store = {};
  return {
    async get(type: string, ids: string[]) {
      const bucket = data[type] ?? {};
      return Object.fromEntries(ids.filter((id) => bucket[id] !== undefined).map((id) => [id, bucket[id]]));
    },
    async set(update: Record<string, Record<string, unknown>>) {
      for (const [type, values] of Object.entries(update)) {
        const bucket = (data[type] ??= {});
        for (const [id, value] of Object.entries(values ?? {})) {
          if (value === null || value === undefined) delete bucket[id];
          else bucket[id] = value;
        }
      }
    },
    async clear() {
      for (const key of Object.keys(data)) delete data[key];
    },
    transaction<T>(work: () => Promise<T>) {
      return work();
    },
    isInTransaction: () => false,
  };
}
