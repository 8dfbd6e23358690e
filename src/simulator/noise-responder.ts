import { createCipheriv, createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import type { Baileys } from './baileys-kit';
import { KeyPair, NOISE_PROLOGUE, NOISE_PROTOCOL_NAME } from './protocol';

export class NoiseProtocolError extends Error {}

/** What the client proved in its handshake: its static (noise) key and the payload it sent. */
export interface ClientFinish {
  clientStaticKey: Buffer;
  payload: Buffer;
}

const GCM_TAG = 16;

function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function iv(counter: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt32BE(counter, 8);
  return out;
}

function gcmEncrypt(key: Buffer, counter: number, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, iv(counter));
  cipher.setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function gcmDecrypt(key: Buffer, counter: number, ciphertext: Uint8Array, aad: Uint8Array): Buffer {
  if (ciphertext.length < GCM_TAG) throw new NoiseProtocolError('ciphertext shorter than its tag');
  const decipher = createDecipheriv('aes-256-gcm', key, iv(counter));
  decipher.setAAD(aad);
  decipher.setAuthTag(Buffer.from(ciphertext.subarray(ciphertext.length - GCM_TAG)));
  try {
    return Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - GCM_TAG)), decipher.final()]);
  } catch {
    throw new NoiseProtocolError('frame failed authentication');
  }
}

/**
 * The responder's side of WhatsApp's Noise XX handshake (Noise_XX_25519_AESGCM_SHA256) and the
 * framed transport after it: frames are a 3-byte big-endian length and the data; the client's
 * first frame is preceded by the prologue. Handshake messages are proto.HandshakeMessage.
 *
 *   -> e                     (client hello)
 *   <- e, ee, s, es, payload (server hello: the certificate chain)
 *   -> s, se, payload        (client finish: the client's noise key, its ClientPayload)
 *
 * After that the client encrypts with the first half of the split key material, the server with
 * the second, each with its own counter from 0.
 */
export class NoiseResponder {
  private hash = NOISE_PROTOCOL_NAME;
  private chainingKey = NOISE_PROTOCOL_NAME;
  private cipherKey = NOISE_PROTOCOL_NAME;
  private nonce = 0;
  private ephemeral!: KeyPair;
  private clientEphemeral!: Buffer;
  private transport?: { send: Buffer; receive: Buffer; sendCounter: number; receiveCounter: number };
  private inbox = Buffer.alloc(0);
  private prologueSeen = false;

  constructor(
    private readonly baileys: Baileys,
    private readonly staticKey: KeyPair,
    private readonly certificateChain: Uint8Array,
  ) {
    this.mixHash(NOISE_PROLOGUE);
  }

  get established(): boolean {
    return this.transport !== undefined;
  }

  /** Feeds received bytes; returns the complete frames in them (decrypted once the transport is up). */
  receive(data: Buffer): Buffer[] {
    this.inbox = this.inbox.length === 0 ? data : Buffer.concat([this.inbox, data]);
    if (!this.prologueSeen) {
      if (this.inbox.length < NOISE_PROLOGUE.length) return [];
      if (!this.inbox.subarray(0, NOISE_PROLOGUE.length).equals(NOISE_PROLOGUE)) throw new NoiseProtocolError('unexpected prologue');
      this.inbox = this.inbox.subarray(NOISE_PROLOGUE.length);
      this.prologueSeen = true;
    }
    const frames: Buffer[] = [];
    while (this.inbox.length >= 3) {
      const size = this.inbox.readUIntBE(0, 3);
      if (this.inbox.length < 3 + size) break;
      const frame = this.inbox.subarray(3, 3 + size);
      this.inbox = this.inbox.subarray(3 + size);
      frames.push(this.transport ? this.transportDecrypt(frame) : Buffer.from(frame));
    }
    return frames;
  }

  /** Answers the client hello; returns the framed server hello to send. */
  respondToHello(frame: Buffer): Buffer {
    const { proto, Curve } = this.baileys;
    const hello = proto.HandshakeMessage.decode(frame).clientHello;
    if (!hello?.ephemeral || hello.ephemeral.length !== 32) throw new NoiseProtocolError('client hello without a 32-byte ephemeral key');
    this.clientEphemeral = Buffer.from(hello.ephemeral);
    this.mixHash(this.clientEphemeral);

    this.ephemeral = Curve.generateKeyPair();
    this.mixHash(this.ephemeral.public);
    this.mixKey(Curve.sharedKey(this.ephemeral.private, this.clientEphemeral));
    const encryptedStatic = this.encryptAndHash(this.staticKey.public);
    this.mixKey(Curve.sharedKey(this.staticKey.private, this.clientEphemeral));
    const encryptedPayload = this.encryptAndHash(this.certificateChain);
    const serverHello = proto.HandshakeMessage.encode({
      serverHello: { ephemeral: this.ephemeral.public, static: encryptedStatic, payload: encryptedPayload },
    }).finish();
    return this.frame(Buffer.from(serverHello));
  }

  /** Reads the client finish, switches to the transport; returns the client's static key and payload. */
  finish(frame: Buffer): ClientFinish {
    const { proto, Curve } = this.baileys;
    const finish = proto.HandshakeMessage.decode(frame).clientFinish;
    if (!finish?.static || !finish.payload) throw new NoiseProtocolError('client finish without static key or payload');
    const clientStaticKey = this.decryptAndHash(finish.static);
    if (clientStaticKey.length !== 32) throw new NoiseProtocolError('client static key is not 32 bytes');
    this.mixKey(Curve.sharedKey(this.ephemeral.private, clientStaticKey));
    const payload = this.decryptAndHash(finish.payload);
    const split = Buffer.from(hkdfSync('sha256', Buffer.alloc(0), this.chainingKey, Buffer.alloc(0), 64));
    this.transport = { receive: split.subarray(0, 32), send: split.subarray(32), sendCounter: 0, receiveCounter: 0 };
    return { clientStaticKey, payload };
  }

  /** Encrypts (once established) and frames one message. */
  frame(data: Buffer): Buffer {
    const body = this.transport ? gcmEncrypt(this.transport.send, this.transport.sendCounter++, data, Buffer.alloc(0)) : data;
    if (body.length >= 1 << 24) throw new NoiseProtocolError('frame too large');
    const out = Buffer.allocUnsafe(3 + body.length);
    out.writeUIntBE(body.length, 0, 3);
    body.copy(out, 3);
    return out;
  }

  private transportDecrypt(frame: Buffer): Buffer {
    const transport = this.transport!;
    return gcmDecrypt(transport.receive, transport.receiveCounter++, frame, Buffer.alloc(0));
  }

  private mixHash(data: Uint8Array): void {
    this.hash = sha256(this.hash, data);
  }

  private mixKey(inputKeyMaterial: Uint8Array): void {
    const out = Buffer.from(hkdfSync('sha256', inputKeyMaterial, this.chainingKey, Buffer.alloc(0), 64));
    this.chainingKey = out.subarray(0, 32);
    this.cipherKey = out.subarray(32);
    this.nonce = 0;
  }

  private encryptAndHash(plaintext: Uint8Array): Buffer {
    const ciphertext = gcmEncrypt(this.cipherKey, this.nonce++, plaintext, this.hash);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  private decryptAndHash(ciphertext: Uint8Array): Buffer {
    const plaintext = gcmDecrypt(this.cipherKey, this.nonce++, ciphertext, this.hash);
    this.mixHash(ciphertext);
    return plaintext;
  }
}
