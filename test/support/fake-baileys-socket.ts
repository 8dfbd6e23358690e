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

  requestPairingCode = async (phoneNumber: string): Promise<string> => {
    this.pairingRequests.push(phoneNumber);
    return 'ABCD1234';
  };
}

/** Hands out FakeBaileysSocket instances and keeps them, in creation order, per session. */
export class FakeSocketFactory {
  readonly sockets: FakeBaileysSocket[] = [];

  readonly factory: BaileysSocketFactory = (baileys, config, sessionId) => {
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
