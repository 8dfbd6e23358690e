import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { SessionConnectorError } from '../../sessions/session-connector';
import type { SessionConnector } from '../../sessions/session-connector';
import type { SessionStatus } from '../../sessions/session-status';
import { GatewayMetrics } from '../../metrics/gateway-metrics';
import type { ConnectionStatePatch } from '../../sessions/sessions.repository';
import { SessionsService } from '../../sessions/sessions.service';
import { LeaseFence, LeaseFencing, LeaseLostError } from '../leases/lease-fence';
import { LeaseHolder, LeaseManager } from '../leases/lease-manager';
import { registerSessionStatusGauge } from './connection-metrics';
import { failedAnswer, HolderCommand, HolderCommandResult, HolderCommands, HolderMovedError, refusalAnswer } from './holder-commands';
import { mediaNeedsConnection, SessionRunner, STOPPED_PATCH } from './session-runner';
import { WHATSAPP_ENGINE } from './whatsapp-engine';
import type { MediaReuploadRequest, WhatsAppEngine } from './whatsapp-engine';

const FOREIGN_KEY_VIOLATION = '23503';

const LOGGED_OUT_UNHELD: ConnectionStatePatch = {
  status: 'logged_out',
  desiredState: 'stopped',
  phoneJid: null,
  pushName: null,
  lastError: null,
  reconnectAttempts: 0,
  nextReconnectAt: null,
  qrCode: null,
  qrIssuedAt: null,
};

interface Route<T> {
  local(runner: SessionRunner): Promise<T>;
  remote(holder: LeaseFence): Promise<T>;
  none(): Promise<T>;
}

/**
 * The connections this replica holds, one SessionRunner per leased session, and the
 * SessionConnector the sessions API uses: each call acts where the session is held (here, on
 * another replica through a holder command, or, when nobody holds it, here under a short claim).
 * Operations on one session run one at a time.
 */
@Injectable()
export class ConnectionSupervisor implements SessionConnector, LeaseHolder, OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Connections');
  private readonly runners = new Map<string, SessionRunner>();
  private readonly operations = new Map<string, Promise<unknown>>();
  private commandTimer?: NodeJS.Timeout;
  private polling = false;

  constructor(
    private readonly config: AppConfig,
    private readonly leases: LeaseManager,
    private readonly fencing: LeaseFencing,
    private readonly sessions: SessionsService,
    private readonly commands: HolderCommands,
    @Inject(WHATSAPP_ENGINE) private readonly engine: WhatsAppEngine,
    metrics: GatewayMetrics,
  ) {
    registerSessionStatusGauge(metrics, this);
  }

  onModuleInit(): void {
    this.leases.attach(this);
  }

  onApplicationBootstrap(): void {
    this.commandTimer = setInterval(() => void this.pollCommands(), this.config.sessions.commandPollMs);
    this.commandTimer.unref();
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.commandTimer);
  }

  /** How many sessions held here stand in each status (the `gateway_whatsapp_sessions` metric, connection-metrics.ts). */
  statusCounts(): Partial<Record<SessionStatus, number>> {
    const counts: Partial<Record<SessionStatus, number>> = {};
    for (const runner of this.runners.values()) counts[runner.currentStatus] = (counts[runner.currentStatus] ?? 0) + 1;
    return counts;
  }

  /** The runner of a session held here (tests and diagnostics). */
  runnerOf(sessionId: string): SessionRunner | undefined {
    return this.runners.get(sessionId);
  }

  /** The sessions held here that are connected to WhatsApp now (the outbox sends for these). */
  connectedRunners(): SessionRunner[] {
    return [...this.runners.values()].filter((runner) => runner.connected);
  }

  // ---- LeaseHolder: what the lease manager decides ----

  acquired(fence: LeaseFence): void {
    this.startRunner(fence);
  }

  lost(sessionId: string, reason: string): void {
    const runner = this.runners.get(sessionId);
    if (!runner) return;
    this.runners.delete(sessionId);
    runner.abandon(reason);
  }

  stopRequested(sessionId: string): void {
    void this.exclusive(sessionId, () => this.stopHere(sessionId, STOPPED_PATCH)).catch((error: Error) =>
      this.logger.warn(`stopping session ${sessionId} failed: ${error.message}`),
    );
  }

  shed(sessionId: string): void {
    void this.exclusive(sessionId, () => this.stopHere(sessionId, undefined)).catch((error: Error) =>
      this.logger.warn(`handing session ${sessionId} over failed: ${error.message}`),
    );
  }

  async closeAll(): Promise<void> {
    const runners = [...this.runners.values()];
    this.runners.clear();
    await Promise.all(runners.map((runner) => runner.stop().catch(() => undefined)));
  }

  // ---- SessionConnector: what the API asks ----

  async start(sessionId: string): Promise<void> {
    if (this.runners.has(sessionId)) return;
    if (await this.leases.holderOf(sessionId)) return;
    const fence = await this.leases.claimToHold(sessionId);
    if (fence && !this.runners.has(sessionId)) this.startRunner(fence);
  }

  stop(sessionId: string): Promise<void> {
    return this.route<void>(sessionId, {
      local: async () => {
        if (!(await this.exclusive(sessionId, () => this.stopHere(sessionId, STOPPED_PATCH)))) throw new HolderMovedError();
      },
      remote: async (holder) => void (await this.commands.send(holder, 'stop')),
      // Nobody holds it: SessionsService settles the status.
      none: async () => undefined,
    });
  }

  async logout(sessionId: string): Promise<void> {
    try {
      await this.routeLogout(sessionId);
    } catch (error) {
      // Deleted meanwhile (a concurrent Delete session took the lease row with it): nothing is left to log out.
      if (error instanceof LeaseLostError && !(await this.sessions.exists(sessionId))) return;
      throw error;
    }
  }

  private routeLogout(sessionId: string): Promise<void> {
    return this.route<void>(sessionId, {
      local: async () => {
        if (!(await this.exclusive(sessionId, () => this.logoutHere(sessionId)))) throw new HolderMovedError();
      },
      remote: async (holder) => void (await this.commands.send(holder, 'logout')),
      none: () => this.logoutUnheld(sessionId),
    });
  }

  requestPairingCode(sessionId: string, phoneNumber: string): Promise<string> {
    return this.route<string>(sessionId, {
      local: (runner) => runner.requestPairingCode(phoneNumber),
      remote: async (holder) => String((await this.commands.send(holder, 'pairing_code', { phoneNumber })).pairingCode),
      none: async () => {
        throw new SessionConnectorError(
          'not_waiting_for_link',
          'the session is not connected to WhatsApp; start it and wait for status qr_required',
          'connecting',
        );
      },
    });
  }

  /** Asks the phone of a connected session to upload a message's media again (wherever the session is held). */
  reuploadMedia(sessionId: string, request: MediaReuploadRequest): Promise<{ directPath: string | null; url: string | null }> {
    return this.route(sessionId, {
      local: (runner) => runner.reuploadMedia(request),
      remote: async (holder) => {
        const value = await this.commands.send(holder, 'media_reupload', { ...request, mediaKey: request.mediaKey.toString('base64') });
        return { directPath: typeof value.directPath === 'string' ? value.directPath : null, url: typeof value.url === 'string' ? value.url : null };
      },
      none: async () => {
        throw mediaNeedsConnection();
      },
    });
  }

  // ---- internals ----

  private startRunner(fence: LeaseFence): void {
    if (this.runners.has(fence.sessionId)) return;
    const runner = new SessionRunner(fence, {
      engine: this.engine,
      report: (leaseFence, patch) => this.fencing.run(leaseFence, (manager) => this.sessions.recordConnectionState(leaseFence.sessionId, patch, manager)),
      isCurrent: (leaseFence) => this.leases.isCurrent(leaseFence),
      finished: (finishedRunner) => this.finished(finishedRunner),
      leaseLost: (lostRunner) => {
        if (this.runners.get(lostRunner.sessionId) === lostRunner) {
          this.runners.delete(lostRunner.sessionId);
          this.leases.forget(lostRunner.sessionId);
        }
        lostRunner.abandon('another replica holds the session now');
      },
      reconnectBaseDelayMs: this.config.sessions.reconnectBaseDelayMs,
      reconnectMaxDelayMs: this.config.sessions.reconnectMaxDelayMs,
    });
    this.runners.set(fence.sessionId, runner);
    runner.start();
  }

  private finished(runner: SessionRunner): void {
    if (this.runners.get(runner.sessionId) === runner) this.runners.delete(runner.sessionId);
    void this.leases.release(runner.fence).catch((error: Error) => this.logger.warn(`releasing session ${runner.sessionId} failed: ${error.message}`));
  }

  /** Closes the session held here, writes `finalPatch`, releases the lease. False when it is not held here. */
  private async stopHere(sessionId: string, finalPatch: ConnectionStatePatch | undefined): Promise<boolean> {
    const runner = this.runners.get(sessionId);
    if (!runner) return false;
    await runner.stop(finalPatch);
    if (this.runners.get(sessionId) === runner) this.runners.delete(sessionId);
    await this.leases.release(runner.fence);
    return true;
  }

  private async logoutHere(sessionId: string): Promise<boolean> {
    const runner = this.runners.get(sessionId);
    if (!runner) return false;
    await runner.logout();
    if (this.runners.get(sessionId) === runner) this.runners.delete(sessionId);
    await this.leases.release(runner.fence);
    return true;
  }

  /** Nobody holds the session: claim it just long enough to wipe its credentials under the fence. */
  private async logoutUnheld(sessionId: string): Promise<void> {
    const fence = await this.leases.claimToAct(sessionId).catch((error: unknown) => {
      // The session row went while the lease was claimed for it (a concurrent Delete session).
      if ((error as { code?: string }).code === FOREIGN_KEY_VIOLATION) return undefined;
      throw error;
    });
    if (!fence) {
      // Deleted meanwhile (a concurrent Delete session): nothing is left to log out.
      if (!(await this.sessions.exists(sessionId))) return;
      throw new HolderMovedError();
    }
    try {
      await this.engine.forgetCredentials(fence);
      await this.fencing.run(fence, (manager) => this.sessions.recordConnectionState(sessionId, LOGGED_OUT_UNHELD, manager));
    } finally {
      await this.leases.release(fence);
    }
  }

  /** Runs the operation where the session is held. Looks again when the holder changed under it. */
  private async route<T>(sessionId: string, route: Route<T>): Promise<T> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const runner = this.runners.get(sessionId);
        if (runner) return await route.local(runner);
        const holder = await this.leases.holderOf(sessionId);
        if (!holder) return await route.none();
        if (holder.owner === this.leases.replicaId) {
          // Held here without a runner: another operation holds a short claim on it right now.
          throw new SessionConnectorError('busy', 'another operation on this session is in progress; retry in a moment');
        }
        return await route.remote(holder);
      } catch (error) {
        if (!(error instanceof HolderMovedError)) throw error;
      }
    }
    throw new SessionConnectorError('moving', 'the session is moving between replicas; retry in a moment');
  }

  private exclusive<T>(sessionId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.operations.get(sessionId) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(work);
    const settled = run.catch(() => undefined);
    this.operations.set(sessionId, settled);
    void settled.then(() => {
      if (this.operations.get(sessionId) === settled) this.operations.delete(sessionId);
    });
    return run;
  }

  /** Executes the commands other replicas addressed to the sessions held here. */
  private async pollCommands(): Promise<void> {
    if (this.polling || this.runners.size === 0) return;
    this.polling = true;
    try {
      const commands = await this.commands.takePending(this.leases.replicaId);
      await Promise.all(commands.map(async (command) => this.commands.complete(command.id, await this.execute(command))));
      if (Math.random() < 0.001) await this.commands.pruneStale();
    } catch (error) {
      this.logger.warn(`polling holder commands failed: ${(error as Error).message}`);
    } finally {
      this.polling = false;
    }
  }

  private async execute(command: HolderCommand): Promise<HolderCommandResult> {
    const runner = this.runners.get(command.sessionId);
    if (!runner || runner.fence.epoch !== command.targetEpoch) return { moved: true };
    try {
      switch (command.kind) {
        case 'stop':
          return (await this.exclusive(command.sessionId, () => this.stopHere(command.sessionId, STOPPED_PATCH))) ? { ok: true } : { moved: true };
        case 'logout':
          return (await this.exclusive(command.sessionId, () => this.logoutHere(command.sessionId))) ? { ok: true } : { moved: true };
        case 'pairing_code':
          return { ok: true, value: { pairingCode: await runner.requestPairingCode(String(command.payload.phoneNumber)) } };
        case 'media_reupload': {
          const request = command.payload as unknown as MediaReuploadRequest & { mediaKey: string };
          return { ok: true, value: await runner.reuploadMedia({ ...request, mediaKey: Buffer.from(request.mediaKey, 'base64') }) };
        }
      }
    } catch (error) {
      if (error instanceof SessionConnectorError) return refusalAnswer(error);
      this.logger.error(`holder command ${command.kind} for session ${command.sessionId} failed: ${(error as Error).message}`);
      return failedAnswer();
    }
  }
}
