import { EventEmitter } from 'node:events';
import type { AuthenticationCreds } from 'baileys' with { 'resolution-mode': 'import' };
import type { Baileys } from '../../src/whatsapp-sync/sync/baileys';
import type { BaileysSocket, BaileysSocketFactory } from '../../src/whatsapp-sync/connection/baileys-socket';
import type { BaileysEventBatch, SyncEventSink } from '../../src/whatsapp-sync/sync-event-sink';

/** A Baileys-style close error: WhatsApp's reason is in output.statusCode, as in Baileys' Boom errors. */
export function disconnectError(statusCode: number, message = 'Connection Failure'): Error {
  return Object.assign(new Error(message), { output: { statusCode, payload: { statusCode, message } } });
}

/**
 * A socket whose events come from the test, through Baileys' own event emitter
 * (makeEventBuffer): everything downstream (ev.process, batching) is Baileys' code.
 */
export class FakeBaileysSocket implements BaileysSocket {
  readonly ev: BaileysSocket['ev'];
  user: BaileysSocket['user'] = undefined;
  closed = false;
  logouts = 0;
  readonly pairingRequests: string[] = [];
  /** The websocket's stanza listeners, as Baileys' `ws` (an EventEmitter of `CB:...` events). */
  readonly ws = new EventEmitter();
  /** WhatsApp's server ack (`<ack class="message">`, `<ack class="receipt">`) follows each sent message and receipt at once; off, the test acks with `serverAck`, `receiptAck`. */
  autoAck = true;

  constructor(
    readonly sessionId: string,
    baileys: Baileys,
    logger: Parameters<Baileys['makeEventBuffer']>[0],
    /** The credentials the engine loaded for this connection. */
    readonly creds: AuthenticationCreds,
  ) {
    this.ev = baileys.makeEventBuffer(logger);
    // As makeWASocket does on the next tick.
    process.nextTick(() => this.ev.emit('connection.update', { connection: 'connecting', receivedPendingNotifications: false, qr: undefined }));
  }

  emit<K extends keyof BaileysEventBatch>(event: K, data: NonNullable<BaileysEventBatch[K]>): void {
    this.ev.emit(event, data);
  }

  /** WhatsApp (or the network) closes the connection with this reason. */
  close(statusCode: number, message?: string): Promise<void> {
    return this.end(disconnectError(statusCode, message));
  }

  end = async (error: Error | undefined): Promise<void> => {
    if (this.closed) return;
    this.closed = true;
    this.ev.emit('connection.update', { connection: 'close', lastDisconnect: { error, date: new Date() } });
    this.ev.removeAllListeners('connection.update');
  };

  logout = async (): Promise<void> => {
    this.logouts++;
    await this.end(disconnectError(401, 'Intentional Logout'));
  };

  /** The messages whose media the phone was asked to upload again; it answers with `/reuploaded/<id>`. */
  readonly mediaReuploads: any[] = [];

  updateMediaMessage = async (message: any): Promise<any> => {
    this.mediaReuploads.push(message);
    const field = Object.keys(message.message)[0];
    return { ...message, message: { [field]: { ...message.message[field], directPath: `/reuploaded/${message.key.id}`, url: undefined } } };
  };

  /**
   * What the gateway sent: (jid, content, options) per call. The next `sendFailures` calls throw;
   * while `sendGate` is set, a send is recorded (it went out) and then hangs until the gate opens.
   */
  readonly sent: { jid: string; content: any; options: any; media?: Buffer }[] = [];
  sendFailures = 0;
  sendGate?: Promise<void>;

  sendMessage = async (jid: string, content: any, options: any = {}): Promise<any> => {
    if (this.sendFailures > 0) {
      this.sendFailures--;
      throw new Error('socket write failed');
    }
    // A media message's file: read as Baileys' upload reads it (the stream is the gateway's staged copy).
    const stream = ['image', 'video', 'audio', 'document', 'sticker'].map((kind) => content?.[kind]?.stream).find(Boolean);
    const media = stream ? Buffer.concat(await stream.toArray()) : undefined;
    this.sent.push({ jid, content, options, ...(media ? { media } : {}) });
    if (this.sendGate) await this.sendGate;
    if (this.autoAck) setImmediate(() => this.serverAck(options.messageId));
    return { key: { remoteJid: jid, fromMe: true, id: options.messageId } };
  };

  /** WhatsApp's server ack of a sent message (with `error`, a refusal), as the stanza Baileys' listeners receive. */
  serverAck(id: string, error?: string): void {
    this.ws.emit('CB:ack,class:message', { tag: 'ack', attrs: { id, class: 'message', from: 's.whatsapp.net', ...(error ? { error } : {}) } });
  }

  /** The read receipts the gateway sent: the keys of each readMessages call. */
  readonly reads: any[][] = [];

  readMessages = async (keys: any[]): Promise<void> => {
    this.reads.push(keys);
    // Baileys sends one receipt per sender, its id the first message's; WhatsApp acks it.
    if (this.autoAck) setImmediate(() => this.receiptAck(keys[0].id));
  };

  /** The chat changes the gateway asked for: each chatModify call. */
  readonly chatModifications: { modification: any; jid: string }[] = [];

  chatModify = async (modification: any, jid: string): Promise<void> => {
    this.chatModifications.push({ modification, jid });
  };

  /** WhatsApp's ack of a receipt the gateway sent (`<ack class="receipt">`, with `error`, a refusal). */
  receiptAck(id: string, error?: string): void {
    this.ws.emit('CB:ack,class:receipt', { tag: 'ack', attrs: { id, class: 'receipt', from: 's.whatsapp.net', ...(error ? { error } : {}) } });
  }

  requestPairingCode = async (phoneNumber: string): Promise<string> => {
    this.pairingRequests.push(phoneNumber);
    return 'ABCD1234';
  };
}

/** Hands out FakeBaileysSocket instances and keeps them, in creation order, per session. */
export class FakeSocketFactory {
  readonly sockets: FakeBaileysSocket[] = [];
  private failures: Error[] = [];

  /** The next socket creation throws `error` (as opening a connection can fail inside the gateway). */
  failNextWith(error: Error): void {
    this.failures.push(error);
  }

  readonly factory: BaileysSocketFactory = (baileys, config, sessionId) => {
    const failure = this.failures.shift();
    if (failure) throw failure;
    const socket = new FakeBaileysSocket(sessionId, baileys, config.logger!, config.auth.creds);
    this.sockets.push(socket);
    return socket;
  };

  of(sessionId: string): FakeBaileysSocket[] {
    return this.sockets.filter((socket) => socket.sessionId === sessionId);
  }

  latest(sessionId: string): FakeBaileysSocket | undefined {
    const sockets = this.of(sessionId);
    return sockets[sockets.length - 1];
  }
}

/** A SyncEventSink that keeps every batch it is handed. */
export class RecordingSink implements SyncEventSink {
  readonly batches: { sessionId: string; batch: BaileysEventBatch }[] = [];

  async handle(sessionId: string, batch: BaileysEventBatch): Promise<void> {
    this.batches.push({ sessionId, batch });
  }

  of(sessionId: string): BaileysEventBatch[] {
    return this.batches.filter((entry) => entry.sessionId === sessionId).map((entry) => entry.batch);
  }
}
