import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Baileys, BinaryNode } from './baileys-kit';
import type { CertificateAuthority } from './certificate-chain';
import { NoiseResponder } from './noise-responder';
import { SERVER_JID } from './protocol';

type ClientPayload = ReturnType<Baileys['proto']['ClientPayload']['decode']>;

export interface ConnectionHandler {
  /** The handshake finished: the client's static key and its ClientPayload (registration or login). */
  onHandshake(connection: WaConnection, clientStaticKey: Buffer, payload: ClientPayload): Promise<void>;
  /** A stanza from the client that is not the answer to one of the server's own queries. */
  onStanza(connection: WaConnection, node: BinaryNode): Promise<void>;
  onClose(connection: WaConnection): void;
}

let connectionCounter = 0;

/**
 * One client socket: the Noise handshake, then binary nodes both ways over the encrypted
 * transport, the server's own iq queries with their answers, and the ways a server ends a
 * connection (stream error, failure, a plain drop).
 */
export class WaConnection {
  readonly id = ++connectionCounter;
  /** Set once the client logged in as a linked device (`phone:device@s.whatsapp.net`). */
  deviceJid?: string;
  /** Set while an unlinked client waits for a scan: its QR refs, noise and identity keys, registration. */
  pairing?: { refs: string[]; noiseKey: Buffer; registration: NonNullable<ClientPayload['devicePairingData']> };
  closed = false;
  private readonly noise: NoiseResponder;
  private stage: 'hello' | 'finish' | 'open' = 'hello';
  private inbound: Promise<void> = Promise.resolve();
  private readonly pending = new Map<string, (node: BinaryNode) => void>();

  constructor(
    private readonly baileys: Baileys,
    private readonly socket: WebSocket,
    ca: CertificateAuthority,
    private readonly handler: ConnectionHandler,
    private readonly onError: (error: Error) => void,
  ) {
    this.noise = new NoiseResponder(baileys, ca.serverStatic, ca.chain);
    socket.on('message', (data: Buffer) => {
      this.inbound = this.inbound.then(() => this.receive(data)).catch((error: Error) => this.fail(error));
    });
    socket.on('close', () => this.markClosed());
    socket.on('error', () => this.markClosed());
  }

  async send(node: BinaryNode): Promise<void> {
    if (this.closed) return;
    const frame = this.noise.frame(this.baileys.encodeBinaryNode(node));
    await new Promise<void>((resolve) => this.socket.send(frame, () => resolve()));
  }

  /** Sends an iq from the server and waits for the client's answer (undefined if the socket closes first). */
  query(node: BinaryNode): Promise<BinaryNode | undefined> {
    const id = node.attrs.id ?? randomBytes(6).toString('hex');
    node.attrs.id = id;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.send(node).catch(() => resolve(undefined));
      this.socket.once('close', () => resolve(undefined));
    });
  }

  /** `<iq type="result">` for a client's iq, with optional content. */
  reply(iq: BinaryNode, content?: BinaryNode[]): Promise<void> {
    return this.send({ tag: 'iq', attrs: { from: SERVER_JID, type: 'result', id: iq.attrs.id }, content });
  }

  /** `<stream:error code=…>` then close, as WhatsApp ends a stream. */
  async streamError(code: number, child?: BinaryNode): Promise<void> {
    await this.send({ tag: 'stream:error', attrs: { code: String(code) }, content: child ? [child] : undefined });
    this.close();
  }

  /** `<failure reason=…>` (a refused login) then close. */
  async failure(reason: number): Promise<void> {
    await this.send({ tag: 'failure', attrs: { reason: String(reason), location: 'simulator' } });
    this.close();
  }

  close(): void {
    if (!this.closed) this.socket.close();
    this.markClosed();
  }

  /** Drops the TCP connection without a goodbye (a network failure). */
  drop(): void {
    this.socket.terminate();
    this.markClosed();
  }

  private async receive(data: Buffer): Promise<void> {
    for (const frame of this.noise.receive(data)) {
      if (this.stage === 'hello') {
        this.stage = 'finish';
        this.socket.send(this.noise.respondToHello(frame));
      } else if (this.stage === 'finish') {
        const { clientStaticKey, payload } = this.noise.finish(frame);
        this.stage = 'open';
        await this.handler.onHandshake(this, clientStaticKey, this.baileys.proto.ClientPayload.decode(payload));
      } else {
        const node = await this.baileys.decodeBinaryNode(frame);
        const waiting = node.tag === 'iq' && node.attrs.id ? this.pending.get(node.attrs.id) : undefined;
        if (waiting && (node.attrs.type === 'result' || node.attrs.type === 'error')) {
          this.pending.delete(node.attrs.id);
          waiting(node);
        } else {
          await this.handler.onStanza(this, node);
        }
      }
    }
  }

  private fail(error: Error): void {
    this.onError(error);
    this.close();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.handler.onClose(this);
  }
}
