import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import pino from 'pino';
import type { UserFacingSocketConfig } from 'baileys' with { 'resolution-mode': 'import' };
import { AppConfig } from '../../config/app-config';
import { PostgresAuthState, PostgresAuthStateStore } from '../auth-state/postgres-auth-state';
import { LeaseFence, LeaseLostError } from '../leases/lease-fence';
import { SYNC_EVENT_SINK } from '../sync-event-sink';
import type { BaileysEventBatch, SyncEventSink } from '../sync-event-sink';
import { Baileys, loadBaileys } from '../sync/baileys';
import { BAILEYS_SOCKET_FACTORY } from './baileys-socket';
import type { BaileysSocket, BaileysSocketFactory } from './baileys-socket';
import { disconnectReasonName } from './disconnect-reason';
import { ConnectionEvent, ConnectionListener, EngineConnection, WhatsAppEngine } from './whatsapp-engine';
import { withTimeout } from '../../common/async/with-timeout';

type ILogger = NonNullable<UserFacingSocketConfig['logger']>;

const CLOSE_TIMEOUT_MS = 5000;

/**
 * The WhatsAppEngine on Baileys: one socket per connection, credentials in PostgreSQL (fenced by
 * the lease), every `sock.ev.process` batch handed to the SyncEventSink in order.
 */
@Injectable()
export class BaileysEngine implements WhatsAppEngine {
  private readonly logger = new Logger('WhatsApp');
  private readonly baileysLogger: ILogger;

  constructor(
    private readonly config: AppConfig,
    private readonly authStore: PostgresAuthStateStore,
    @Inject(BAILEYS_SOCKET_FACTORY) private readonly makeSocket: BaileysSocketFactory,
    @Optional() @Inject(SYNC_EVENT_SINK) private readonly sink?: SyncEventSink,
  ) {
    this.baileysLogger = pino({ level: config.whatsapp.logLevel, base: { component: 'baileys' } }) as unknown as ILogger;
    if (!sink) this.logger.warn('no SyncEventSink is registered: WhatsApp events are not stored');
  }

  async connect(fence: LeaseFence, listener: ConnectionListener): Promise<EngineConnection> {
    const baileys = await loadBaileys();
    const auth = await this.authStore.open(fence, baileys, () => listener.onLeaseLost());
    const logger = this.baileysLogger.child({ sessionId: fence.sessionId });
    const socket = this.makeSocket(baileys, {
      auth: { creds: auth.state.creds, keys: baileys.makeCacheableSignalKeyStore(auth.state.keys, logger) },
      logger,
      ...(this.config.whatsapp.webSocketUrl ? { waWebSocketUrl: this.config.whatsapp.webSocketUrl } : {}),
      connectTimeoutMs: this.config.whatsapp.connectTimeoutMs,
      // A gateway should not make the account look online (the phone would stop notifying).
      markOnlineOnConnect: false,
      // A refused (fenced) write must not be retried for long.
      transactionOpts: { maxCommitRetries: 3, delayBetweenTriesMs: 200 },
    }, fence.sessionId);
    return new BaileysConnection(fence.sessionId, socket, auth, listener, baileys, this.logger, this.sink);
  }

  forgetCredentials(fence: LeaseFence): Promise<void> {
    return this.authStore.wipe(fence);
  }
}

class BaileysConnection implements EngineConnection {
  private queue: Promise<void> = Promise.resolve();
  private closing = false;
  private closed = false;
  private leaseLost = false;
  private pushName: string | null = null;
  private readonly closedPromise: Promise<void>;
  private markClosed!: () => void;

  constructor(
    private readonly sessionId: string,
    private readonly socket: BaileysSocket,
    private readonly auth: PostgresAuthState,
    private readonly listener: ConnectionListener,
    private readonly baileys: Baileys,
    private readonly logger: Logger,
    private readonly sink?: SyncEventSink,
  ) {
    this.closedPromise = new Promise((resolve) => (this.markClosed = resolve));
    // Baileys does not await the handler: chain the batches so each is handled after the previous one.
    socket.ev.process((batch) => {
      this.queue = this.queue.then(() => this.handle(batch));
      return this.queue;
    });
  }

  requestPairingCode(phoneNumber: string): Promise<string> {
    return this.socket.requestPairingCode(phoneNumber);
  }

  async logout(): Promise<void> {
    await this.socket.logout();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    await withTimeout(this.socket.end(undefined), CLOSE_TIMEOUT_MS).catch((error: Error) =>
      this.logger.warn(`closing the socket of session ${this.sessionId} failed: ${error.message}`),
    );
    await withTimeout(this.closedPromise, CLOSE_TIMEOUT_MS).catch(() => undefined);
    await this.auth.flush();
  }

  private async handle(batch: BaileysEventBatch): Promise<void> {
    try {
      const credsUpdate = batch['creds.update'];
      if (credsUpdate) {
        await this.auth.saveCreds().catch((error: Error) => {
          if (error instanceof LeaseLostError) this.leaseLost = true;
          else this.logger.error(`saving credentials of session ${this.sessionId} failed: ${error.message}`);
        });
        const name = credsUpdate.me?.name;
        if (name && name !== '~' && name !== this.pushName && !this.closed) {
          this.pushName = name;
          await this.listener.onEvent({ type: 'profile', pushName: name });
        }
      }
      const update = batch['connection.update'];
      if (update) {
        for (const event of this.translate(update)) await this.listener.onEvent(event);
      }
      // A replica that lost the lease must not write the stored copy either.
      if (this.sink && !this.leaseLost) await this.sink.handle(this.sessionId, batch);
    } catch (error) {
      this.logger.error(`handling WhatsApp events of session ${this.sessionId} failed: ${(error as Error).message}`, (error as Error).stack);
    }
  }

  private translate(update: NonNullable<BaileysEventBatch['connection.update']>): ConnectionEvent[] {
    const events: ConnectionEvent[] = [];
    if (update.connection === 'connecting') events.push({ type: 'connecting' });
    if (update.qr) events.push({ type: 'qr', qr: update.qr });
    if (update.connection === 'open') {
      const me = this.socket.user ?? this.auth.state.creds.me;
      const name = me?.name && me.name !== '~' ? me.name : null;
      this.pushName = name;
      events.push({ type: 'open', phoneJid: me?.id ? this.baileys.jidNormalizedUser(me.id) : null, pushName: name });
    }
    if (update.connection === 'close' && !this.closed) {
      this.closed = true;
      this.markClosed();
      // Baileys closes with a Boom error whose output.statusCode is the DisconnectReason.
      const error = update.lastDisconnect?.error as (Error & { output?: { statusCode?: number } }) | undefined;
      const code = error?.output?.statusCode ?? null;
      events.push({
        type: 'close',
        code,
        reason: disconnectReasonName(code),
        message: error?.message ?? null,
        intentional: this.closing && !error,
      });
    }
    return events;
  }
}
