import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionConnectorError } from '../../sessions/session-connector';
import type { ConnectionStatePatch } from '../../sessions/sessions.repository';
import type { SessionStatus } from '../../sessions/session-status';
import { CredentialsUnreadableError } from '../auth-state/credential-cipher';
import { LeaseFence, LeaseLostError } from '../leases/lease-fence';
import { isDatabaseUnavailable } from '../../common/errors/database-unavailable';
import { backoffDelay } from './backoff';
import { decideAfterClose } from './disconnect-reason';
import { DATABASE_UNAVAILABLE, GATEWAY_FAILURE, lastErrorOfClose } from './last-error';
import type { ConnectionEvent, ConnectionListener, EngineConnection, MediaReuploadRequest, SentMessage, WhatsAppEngine } from './whatsapp-engine';
import type { OutgoingMessage } from '../../messages/sending/outgoing-message';
import { withTimeout } from '../../common/async/with-timeout';

/** A connection that stayed open this long was stable: the next failure starts the backoff from scratch. */
const STABLE_CONNECTION_MS = 60_000;
/** Restarts WhatsApp asks for (515, e.g. right after linking) are immediate, up to this many in a row. */
const MAX_IMMEDIATE_RESTARTS = 3;
const LOGOUT_TIMEOUT_MS = 10_000;
/**
 * Tries of a state write that fails for another reason than a lost lease (the database busy or
 * away for a moment), a quarter second apart and doubling (about 8 s in all): a status nobody
 * writes again would stay wrong until the next change of the connection.
 */
const REPORT_TRIES = 6;
const REPORT_RETRY_BASE_MS = 250;
const QR_TIMEOUT_MESSAGE = 'QR refs attempts ended';

const CLEARED_QR: ConnectionStatePatch = { qrCode: null, qrIssuedAt: null };
export const STOPPED_PATCH: ConnectionStatePatch = { status: 'stopped', nextReconnectAt: null, ...CLEARED_QR };
const LOGGED_OUT_PATCH: ConnectionStatePatch = {
  status: 'logged_out',
  desiredState: 'stopped',
  phoneJid: null,
  pushName: null,
  reconnectAttempts: 0,
  nextReconnectAt: null,
  ...CLEARED_QR,
};

export interface SessionRunnerDeps {
  engine: WhatsAppEngine;
  /** Writes what the connection observed, fenced by the lease (throws LeaseLostError once it moved). */
  report(fence: LeaseFence, patch: ConnectionStatePatch): Promise<void>;
  /** Whether the fence is still the current lease (asked on connectionReplaced). */
  isCurrent(fence: LeaseFence): Promise<boolean>;
  /** The runner ended by itself (logged out, failed, QR not scanned): release its lease. */
  finished(runner: SessionRunner): void;
  /** A write was refused by the fence: the lease moved on. */
  leaseLost(runner: SessionRunner): void;
  reconnectBaseDelayMs: number;
  reconnectMaxDelayMs: number;
}

interface DisconnectFields {
  lastDisconnectCode: number | null;
  lastDisconnectReason: ConnectionStatePatch['lastDisconnectReason'];
  lastDisconnectAt: Date;
}

/**
 * One held session's connection: connects, reports what happens (QR, open, close), reconnects
 * with exponential backoff and jitter on transient failures, restarts at once when WhatsApp asks,
 * and ends (releasing the lease) on logout or a permanent refusal. Never loops without a delay.
 */
export class SessionRunner implements ConnectionListener {
  private readonly logger = new Logger('Session');
  private connection?: EngineConnection;
  private connecting?: Promise<void>;
  private reconnectTimer?: NodeJS.Timeout;
  private attempts = 0;
  private immediateRestarts = 0;
  private openedAt?: number;
  private status?: SessionStatus;
  private stopping = false;
  private ending?: Promise<void>;
  /** Connections made so far (tests read it). */
  connectionsOpened = 0;

  constructor(
    readonly fence: LeaseFence,
    private readonly deps: SessionRunnerDeps,
  ) {}

  get sessionId(): string {
    return this.fence.sessionId;
  }

  /** Where this connection stands now (metrics); `connecting` until the first status is reported. */
  get currentStatus(): SessionStatus {
    return this.status ?? 'connecting';
  }

  start(): void {
    this.connecting = this.connect();
  }

  /** Closes the connection (keeping the link), then writes `finalPatch` when given. The caller releases the lease. */
  stop(finalPatch?: ConnectionStatePatch): Promise<void> {
    this.ending ??= (async () => {
      await this.halt();
      if (finalPatch) await this.report(finalPatch);
    })();
    return this.ending;
  }

  /** WhatsApp logout when connected, then the credentials are wiped and the session is `logged_out`. The caller releases the lease. */
  logout(): Promise<void> {
    this.ending ??= (async () => {
      this.stopping = true;
      clearTimeout(this.reconnectTimer);
      await this.connecting;
      const connection = this.connection;
      if (connection) {
        await withTimeout(connection.logout(), LOGOUT_TIMEOUT_MS).catch((error: Error) =>
          this.logger.warn(`WhatsApp logout of session ${this.sessionId} failed, wiping its credentials anyway: ${error.message}`),
        );
      }
      await this.halt();
      await this.forgetAndReport({ ...LOGGED_OUT_PATCH, lastError: null });
    })();
    return this.ending;
  }

  /** Gives the session up at once: the lease is gone. Nothing more is written. */
  abandon(reason: string): void {
    if (this.stopping && this.ending) return;
    this.logger.warn(`dropping session ${this.sessionId}: ${reason}`);
    this.ending ??= this.halt();
  }

  async requestPairingCode(phoneNumber: string): Promise<string> {
    const connection = this.connection;
    if (!connection || this.stopping || this.status !== 'qr_required') {
      const status = this.status ?? 'connecting';
      throw new SessionConnectorError('not_waiting_for_link', `the session is not waiting for a phone to link (status: ${status})`, status);
    }
    try {
      return await connection.requestPairingCode(phoneNumber);
    } catch (error) {
      this.logger.warn(`pairing code request of session ${this.sessionId} failed: ${(error as Error).message}`);
      throw new SessionConnectorError('pairing_refused', 'WhatsApp did not accept the pairing request; retry in a moment');
    }
  }

  /** Asks the phone to upload a message's media again (the session must be connected). */
  async reuploadMedia(request: MediaReuploadRequest): Promise<{ directPath: string | null; url: string | null }> {
    const connection = this.connection;
    if (!connection || this.stopping || this.status !== 'connected') throw mediaNeedsConnection();
    try {
      return await connection.reuploadMedia(request);
    } catch (error) {
      this.logger.warn(`media re-upload request of session ${this.sessionId} failed: ${(error as Error).message}`);
      throw new SessionConnectorError('media_reupload_refused', 'the phone did not upload the media again; retry in a moment');
    }
  }

  /** Whether messages can be sent now. */
  get connected(): boolean {
    return this.connection !== undefined && !this.stopping && this.status === 'connected';
  }

  /** Sends a message on the open connection (the outbox checks `connected` first). */
  sendMessage(message: OutgoingMessage): Promise<SentMessage> {
    const connection = this.connection;
    if (!connection || !this.connected) return Promise.reject(new SessionConnectorError('not_connected', 'the session is not connected to WhatsApp'));
    return connection.sendMessage(message);
  }

  async onEvent(event: ConnectionEvent): Promise<void> {
    if (event.type === 'close') this.connection = undefined;
    if (this.stopping) return;
    switch (event.type) {
      case 'connecting':
        if (this.status !== 'connecting') await this.report({ status: 'connecting' });
        return;
      case 'qr':
        await this.report({ status: 'qr_required', qrCode: event.qr, qrIssuedAt: new Date() });
        return;
      case 'open':
        this.openedAt = Date.now();
        this.immediateRestarts = 0;
        await this.report({
          status: 'connected',
          phoneJid: event.phoneJid,
          pushName: event.pushName,
          connectedAt: new Date(),
          lastError: null,
          reconnectAttempts: 0,
          nextReconnectAt: null,
          ...CLEARED_QR,
        });
        return;
      case 'profile':
        await this.report({ pushName: event.pushName });
        return;
      case 'close':
        await this.afterClose(event);
        return;
    }
  }

  onLeaseLost(): void {
    this.deps.leaseLost(this);
  }

  private async connect(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.stopping) return;
    this.openedAt = undefined;
    try {
      this.connectionsOpened++;
      const connection = await this.deps.engine.connect(this.fence, this);
      if (this.stopping) {
        await connection.close();
        return;
      }
      this.connection = connection;
    } catch (error) {
      if (this.stopping) return;
      if (error instanceof LeaseLostError) return this.deps.leaseLost(this);
      if (error instanceof CredentialsUnreadableError) {
        return this.end({ status: 'failed', desiredState: 'stopped', lastError: `${error.message}; log the session out to link it again`, ...CLEARED_QR });
      }
      // The tenant reads lastError: the detail (a database error's statement, an address) goes to the log only.
      this.logger.warn({ sessionId: this.sessionId, err: error }, 'could not open the WhatsApp connection');
      await this.retryLater(null, isDatabaseUnavailable(error) ? DATABASE_UNAVAILABLE : GATEWAY_FAILURE);
    }
  }

  private async afterClose(event: Extract<ConnectionEvent, { type: 'close' }>): Promise<void> {
    const disconnect: DisconnectFields = { lastDisconnectCode: event.code, lastDisconnectReason: event.reason, lastDisconnectAt: new Date() };
    const wasStable = this.openedAt !== undefined && Date.now() - this.openedAt >= STABLE_CONNECTION_MS;
    if (wasStable) this.attempts = 0;
    const wasOpen = this.openedAt !== undefined;
    switch (decideAfterClose(event.reason)) {
      case 'logged_out':
        return this.end(undefined, () =>
          this.forgetAndReport({ ...LOGGED_OUT_PATCH, ...disconnect, lastError: 'the phone unlinked this session (logged out)' }),
        );
      case 'failed':
        return this.end({
          status: 'failed',
          desiredState: 'stopped',
          ...disconnect,
          nextReconnectAt: null,
          ...CLEARED_QR,
          lastError: `WhatsApp refused the session (${event.reason}${event.origin === 'whatsapp' && event.message ? `: ${lastErrorOfClose(event)}` : ''})`,
        });
      case 'check_lease':
        // Another client took the number over. If that is another replica, the lease says so: stand down.
        if (!(await this.deps.isCurrent(this.fence).catch(() => false))) return this.deps.leaseLost(this);
        return this.retryLater(disconnect, lastErrorOfClose(event));
      case 'restart':
        if (this.immediateRestarts < MAX_IMMEDIATE_RESTARTS) {
          this.immediateRestarts++;
          await this.report({ status: 'connecting', ...disconnect, nextReconnectAt: null, ...CLEARED_QR });
          if (!this.stopping) this.connecting = this.connect();
          return;
        }
        return this.retryLater(disconnect, lastErrorOfClose(event));
      case 'reconnect':
        if (!wasOpen && event.message?.includes(QR_TIMEOUT_MESSAGE)) {
          return this.end({
            ...STOPPED_PATCH,
            desiredState: 'stopped',
            ...disconnect,
            lastError: 'the QR code was not scanned in time; start the session again',
          });
        }
        return this.retryLater(disconnect, lastErrorOfClose(event));
    }
  }

  /** `message` is what the tenant reads as lastError: never raw database or network error text. */
  private async retryLater(disconnect: DisconnectFields | null, message: string): Promise<void> {
    this.attempts++;
    const delay = backoffDelay(this.attempts, this.deps.reconnectBaseDelayMs, this.deps.reconnectMaxDelayMs);
    await this.report({
      status: 'connecting',
      ...(disconnect ?? {}),
      lastError: message,
      reconnectAttempts: this.attempts,
      nextReconnectAt: new Date(Date.now() + delay),
      ...CLEARED_QR,
    });
    if (this.stopping) return;
    this.reconnectTimer = setTimeout(() => {
      this.connecting = this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }

  /** The runner ends by itself: close, write the final state, then the supervisor releases the lease. */
  private end(finalPatch: ConnectionStatePatch | undefined, finalWork?: () => Promise<void>): Promise<void> {
    this.ending ??= (async () => {
      await this.halt();
      if (finalWork) await finalWork();
      if (finalPatch) await this.report(finalPatch);
      this.deps.finished(this);
    })();
    return this.ending;
  }

  private async forgetAndReport(patch: ConnectionStatePatch): Promise<void> {
    try {
      await this.deps.engine.forgetCredentials(this.fence);
    } catch (error) {
      if (error instanceof LeaseLostError) return this.deps.leaseLost(this);
      throw error;
    }
    await this.report(patch);
  }

  private async halt(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    await this.connecting?.catch(() => undefined);
    const connection = this.connection;
    this.connection = undefined;
    await connection?.close();
  }

  /** Writes what the connection observed; the connection's events wait for it, so writes keep their order. */
  private async report(patch: ConnectionStatePatch): Promise<void> {
    for (let tries = 1; ; tries++) {
      try {
        await this.deps.report(this.fence, patch);
        if (patch.status) this.status = patch.status;
        return;
      } catch (error) {
        if (error instanceof LeaseLostError) return this.deps.leaseLost(this);
        // A stopping runner writes its final state once: the stop must not wait on a database that is away.
        const retrying = tries < REPORT_TRIES && !this.stopping;
        this.logger.warn(
          { sessionId: this.sessionId, err: error, retrying },
          retrying ? 'could not record the state of the session; trying again' : 'could not record the state of the session',
        );
        if (!retrying) return;
        await sleep(REPORT_RETRY_BASE_MS * 2 ** (tries - 1), undefined, { ref: false });
      }
    }
  }
}

/** The answer when media is asked of a session that is not connected to WhatsApp. */
export function mediaNeedsConnection(): SessionConnectorError {
  return new SessionConnectorError('not_connected', 'the session is not connected to WhatsApp; media is downloaded through its connection: start it and retry');
}
