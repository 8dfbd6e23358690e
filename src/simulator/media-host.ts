import { createHash, createHmac, createDecipheriv, generateKeyPairSync, randomBytes, sign, timingSafeEqual } from 'node:crypto';
import { createServer, Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * WhatsApp's media host, as the simulator plays it: what a `media_conn` query names. A client
 * uploads an encrypted file with `POST /mms/<type>/<token>?auth=<auth>&token=<token>` (the token
 * is the file's encrypted SHA-256, base64url; WhatsApp refuses a body that does not match it) and
 * gets back its `url` and `direct_path`; anyone with the path downloads the encrypted bytes with a
 * GET. HTTPS only, as Baileys speaks it, under a certificate the simulator makes for itself when it
 * starts (the gateway trusts it with WHATSAPP_SIMULATOR_MEDIA_CA).
 */
export class MediaHost {
  /** Encrypted files by direct path. */
  private readonly files = new Map<string, Buffer>();
  /** The upload token `media_conn` hands out. */
  readonly auth = randomBytes(24).toString('base64url');
  readonly uploads: { type: string; directPath: string; bytes: number }[] = [];

  private constructor(
    private readonly server: Server,
    /** The host's certificate (PEM): what a client trusts. */
    readonly certificatePem: string,
    private readonly maxBytes: number,
  ) {
    server.on('request', (request: IncomingMessage, response: ServerResponse) => void this.handle(request, response));
  }

  static async start(host: string, maxBytes = 256 * 1024 * 1024): Promise<MediaHost> {
    const { certificatePem, keyPem } = selfSignedCertificate(host);
    const server = createServer({ key: keyPem, cert: certificatePem });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
      server.listen(0, host);
    });
    return new MediaHost(server, certificatePem, maxBytes);
  }

  /** `host:port`, as `media_conn` names it. */
  get hostname(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  /** The encrypted file at `directPath`, as a download gets it. */
  file(directPath: string): Buffer | undefined {
    return this.files.get(directPath);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'https://media.invalid');
    const answer = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method === 'GET') {
      const file = this.files.get(url.pathname);
      if (!file) return answer(404, { error: 'not found' });
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.length });
      return void response.end(file);
    }
    const upload = /^\/mms\/([a-z-]+)\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
    if (request.method !== 'POST' || !upload) return answer(404, { error: 'not found' });
    if (url.searchParams.get('auth') !== this.auth) return answer(401, { error: 'bad auth' });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.maxBytes) return answer(413, { error: 'too large' });
      chunks.push(chunk);
    }
    const body = Buffer.concat(chunks);
    const [, type, token] = upload;
    if (createHash('sha256').update(body).digest('base64url') !== token.replace(/=+$/, '')) return answer(400, { error: 'hash mismatch' });
    const directPath = `/v/t62.7118-24/${randomBytes(12).toString('hex')}.enc`;
    this.files.set(directPath, body);
    this.uploads.push({ type, directPath, bytes: body.length });
    answer(200, { url: `https://${this.hostname}${directPath}`, direct_path: directPath });
  }
}

/** HKDF `info` of each media type (WhatsApp's; Baileys' MEDIA_HKDF_KEY_MAPPING). */
const HKDF_INFO: Record<string, string> = {
  image: 'WhatsApp Image Keys',
  video: 'WhatsApp Video Keys',
  audio: 'WhatsApp Audio Keys',
  document: 'WhatsApp Document Keys',
  sticker: 'WhatsApp Image Keys',
};

/**
 * What a recipient's phone does with a media message: the encrypted file's SHA-256 and MAC checked,
 * then AES-256-CBC with the keys the message's media key expands to (HKDF-SHA256, 112 bytes: IV,
 * cipher key, MAC key), and the plain file's SHA-256 checked. Throws on any mismatch.
 */
export function decryptMedia(encrypted: Buffer, media: { mediaKey: Buffer; fileEncSha256: Buffer; fileSha256: Buffer }, type: string): Buffer {
  const info = HKDF_INFO[type];
  if (!info) throw new Error(`no media keys for ${type}`);
  if (!createHash('sha256').update(encrypted).digest().equals(media.fileEncSha256)) throw new Error('the encrypted file does not match fileEncSha256');
  const expanded = Buffer.from(hkdf(media.mediaKey, 112, info));
  const iv = expanded.subarray(0, 16);
  const cipherKey = expanded.subarray(16, 48);
  const macKey = expanded.subarray(48, 80);
  const ciphertext = encrypted.subarray(0, encrypted.length - 10);
  const mac = createHmac('sha256', macKey).update(iv).update(ciphertext).digest().subarray(0, 10);
  if (!timingSafeEqual(mac, encrypted.subarray(encrypted.length - 10))) throw new Error('the media MAC does not match');
  const decipher = createDecipheriv('aes-256-cbc', cipherKey, iv);
  const plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  if (!createHash('sha256').update(plain).digest().equals(media.fileSha256)) throw new Error('the decrypted file does not match fileSha256');
  return plain;
}

/** HKDF-SHA256 with an empty salt (RFC 5869), as WhatsApp expands media keys. */
function hkdf(key: Buffer, length: number, info: string): Buffer {
  const prk = createHmac('sha256', Buffer.alloc(32)).update(key).digest();
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 1; blocks.length * 32 < length; i++) {
    previous = createHmac('sha256', prk)
      .update(Buffer.concat([previous, Buffer.from(info), Buffer.from([i])]))
      .digest();
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

// ---- a self-signed certificate, made without OpenSSL's command line --------------------------

/** DER: a tag, its length, its content. */
function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const length =
    body.length < 0x80
      ? Buffer.from([body.length])
      : body.length < 0x100
        ? Buffer.from([0x81, body.length])
        : Buffer.from([0x82, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}
const sequence = (...content: Buffer[]) => der(0x30, ...content);
const oid = (hex: string) => der(0x06, Buffer.from(hex, 'hex'));
const ECDSA_WITH_SHA256 = '2a8648ce3d040302';
const COMMON_NAME = '550403';
const SUBJECT_ALT_NAME = '551d11';

/** UTCTime, YYMMDDHHMMSSZ. */
function utcTime(date: Date): Buffer {
  const iso = date.toISOString();
  return der(0x17, Buffer.from(`${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`));
}

/**
 * A positive serial number from 16 random bytes, as DER's INTEGER has it: the first byte 0x01 to
 * 0x7f, so neither a sign bit nor a leading zero byte (a zero first byte before one under 0x80 is
 * "illegal padding" to OpenSSL: one certificate in 256 failed to load that way, and the simulator's
 * media host with it).
 */
function serialNumber(random: Buffer): Buffer {
  const serial = Buffer.from(random);
  serial[0] = (serial[0] & 0x7f) | 0x01;
  return serial;
}

/**
 * An X.509 v3 certificate for `host` (an IPv4 address or a DNS name, in its subjectAltName),
 * self-signed with a fresh P-256 key, valid from a day ago for a year: the media host's TLS identity.
 * `serialBytes` (16 random bytes) is a parameter for the tests.
 */
export function selfSignedCertificate(host: string, serialBytes = randomBytes(16)): { certificatePem: string; keyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = sequence(der(0x31, sequence(oid(COMMON_NAME), der(0x0c, Buffer.from('WhatsApp simulator media host')))));
  const ipv4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
  const altName = ipv4 ? der(0x87, Buffer.from(host.split('.').map(Number))) : der(0x82, Buffer.from(host));
  const now = Date.now();
  const tbs = sequence(
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, serialNumber(serialBytes)),
    sequence(oid(ECDSA_WITH_SHA256)),
    name,
    sequence(utcTime(new Date(now - 86_400_000)), utcTime(new Date(now + 365 * 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, sequence(sequence(oid(SUBJECT_ALT_NAME), der(0x04, sequence(altName))))),
  );
  const signature = sign('sha256', tbs, privateKey);
  const certificate = sequence(tbs, sequence(oid(ECDSA_WITH_SHA256)), der(0x03, Buffer.from([0]), signature));
  const lines = certificate.toString('base64').match(/.{1,64}/g)!;
  return {
    certificatePem: `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}
