import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { EntityManager } from 'typeorm';
import { AppError } from '../common/errors/app-error';
import { CursorCodec } from '../common/pagination/cursor-codec';
import { PageQuery } from '../common/pagination/page-query';
import { CreateSessionRequest } from './dto/create-session.request';
import { PairingCodeResponse } from './dto/pairing-code.response';
import { SessionDetailResponse } from './dto/session-detail.response';
import { SessionPageResponse } from './dto/session-page.response';
import { SessionQrResponse } from './dto/session-qr.response';
import { SessionSyncStatusResponse } from './dto/session-sync-status.response';
import { SessionResponse } from './dto/session.response';
import { UpdateSessionRequest } from './dto/update-session.request';
import type { SendPacing } from './dto/send-pacing';
import { Session } from './session.entity';
import { connectorRefusalToApiError, SESSION_CONNECTOR, SessionConnector, SessionConnectorError } from './session-connector';
import { newSessionId } from './session-id';
import { SessionOwnership } from './session-ownership';
import { renderQrPng } from './session-qr';
import { effectiveStatus } from './session-status';
import { SESSION_SYNC_STATUS } from './session-sync-status';
import type { SessionSyncStatusReader } from './session-sync-status';
import { ConnectionStatePatch, SessionsRepository } from './sessions.repository';
import type { OrgQuotaDefaults, QuotaExceeded } from './org-quotas';
import { AppConfig } from '../config/app-config';

@Injectable()
export class SessionsService {
  private connectorInstance?: SessionConnector;

  constructor(
    private readonly sessions: SessionsRepository,
    private readonly ownership: SessionOwnership,
    private readonly cursors: CursorCodec,
    private readonly moduleRef: ModuleRef,
    @Inject(SESSION_SYNC_STATUS) private readonly syncStatus: SessionSyncStatusReader,
    config: AppConfig,
  ) {
    this.quotas = { maxSessions: config.sessions.maxPerOrg, maxRunningSessions: config.sessions.maxRunningPerOrg };
    const { ratePerMinute, burst, jitterMs } = config.sending;
    this.pacingDefaults = { ratePerMinute, burst, jitterMs };
  }

  private readonly pacingDefaults: SendPacing;

  private readonly quotas: OrgQuotaDefaults;

  /** Registers a session; it stays `stopped` unless `start` (then a replica connects it). */
  async create(orgId: string, name: string, options: { metadata?: Record<string, unknown>; start?: boolean } = {}): Promise<Session> {
    const start = options.start ?? false;
    return this.sessions.insert({
      id: newSessionId(),
      orgId,
      name,
      metadata: options.metadata ?? {},
      status: start ? 'connecting' : 'stopped',
      desiredState: start ? 'running' : 'stopped',
    });
  }

  /** POST /sessions: within the org's quotas (sessions, and running sessions when it starts at once). */
  async createForApi(orgId: string, request: CreateSessionRequest): Promise<SessionResponse> {
    const start = request.start ?? true;
    const created = await this.sessions.insertWithinQuota(
      {
        id: newSessionId(),
        orgId,
        name: request.name,
        metadata: request.metadata ?? {},
        status: start ? 'connecting' : 'stopped',
        desiredState: start ? 'running' : 'stopped',
      },
      this.quotas,
    );
    if (!(created instanceof Session)) throw quotaExceeded(created);
    const session = created;
    if (session.desiredState === 'running') await this.connect((connector) => connector.start(session.id));
    return this.view(orgId, session.id);
  }

  async list(orgId: string, page: PageQuery): Promise<SessionPageResponse> {
    const scope = `sessions:${orgId}`;
    const after = page.cursor === undefined ? undefined : this.cursors.decodeUlid(scope, page.cursor);
    const { rows, hasMore } = await this.sessions.findPageForOrg(orgId, page.limit, after);
    return {
      data: rows.map((row) => SessionResponse.fromView(row)),
      nextCursor: hasMore ? this.cursors.encodeUlid(scope, rows[rows.length - 1].id) : null,
    };
  }

  async get(orgId: string, rawSessionId: string): Promise<SessionDetailResponse> {
    const session = await this.ownership.requireOwned(orgId, rawSessionId);
    const sync = await this.syncStatus.statusOf(session.id);
    return { ...SessionResponse.fromView(session), sync: SessionSyncStatusResponse.from(sync) };
  }

  async update(orgId: string, rawSessionId: string, request: UpdateSessionRequest): Promise<SessionResponse> {
    const id = await this.ownership.requireOwnedId(orgId, rawSessionId);
    if (request.name === undefined && request.metadata === undefined && request.sendPacing === undefined) {
      throw AppError.invalidArgument('give at least one of name, metadata and sendPacing', { parameter: 'body' });
    }
    const { sendPacing } = request;
    const pacing = sendPacing ? { defaults: this.pacingDefaults, change: definedFields(sendPacing) } : sendPacing;
    await this.sessions.updateSettings(id, { name: request.name, metadata: request.metadata, sendPacing: pacing });
    return this.view(orgId, id);
  }

  async start(orgId: string, rawSessionId: string): Promise<SessionResponse> {
    const id = await this.ownership.requireOwnedId(orgId, rawSessionId);
    const exceeded = await this.sessions.markRunningWithinQuota(id, orgId, this.quotas);
    if (exceeded) throw quotaExceeded(exceeded);
    await this.connect((connector) => connector.start(id));
    return this.view(orgId, id);
  }

  async stop(orgId: string, rawSessionId: string): Promise<SessionResponse> {
    const id = await this.ownership.requireOwnedId(orgId, rawSessionId);
    await this.sessions.markStopping(id);
    await this.connect((connector) => connector.stop(id));
    await this.sessions.settleStopped(id);
    return this.view(orgId, id);
  }

  async logout(orgId: string, rawSessionId: string): Promise<SessionResponse> {
    const id = await this.ownership.requireOwnedId(orgId, rawSessionId);
    await this.sessions.markStopping(id);
    await this.connect((connector) => connector.logout(id));
    return this.view(orgId, id);
  }

  /** Logs out (best effort: a holder that does not answer loses its lease with the row), then removes the session and all it stored. */
  async delete(orgId: string, rawSessionId: string): Promise<void> {
    const id = await this.ownership.requireOwnedId(orgId, rawSessionId);
    await this.sessions.markStopping(id);
    try {
      await this.connect((connector) => connector.logout(id));
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'unavailable')) throw error;
    }
    await this.sessions.delete(id);
  }

  async currentQr(orgId: string, rawSessionId: string): Promise<SessionQrResponse> {
    const view = await this.ownership.requireOwned(orgId, rawSessionId);
    const status = effectiveStatus(view);
    if (status !== 'qr_required' || !view.qrCode || !view.qrIssuedAt) {
      throw new AppError('conflict', `the session is not waiting for a QR scan (status: ${status})`, { status });
    }
    return { qr: view.qrCode, image: await renderQrPng(view.qrCode), issuedAt: view.qrIssuedAt.toISOString() };
  }

  async requestPairingCode(orgId: string, rawSessionId: string, phoneNumber: string): Promise<PairingCodeResponse> {
    const view = await this.ownership.requireOwned(orgId, rawSessionId);
    const status = effectiveStatus(view);
    if (status !== 'qr_required') {
      throw new AppError('conflict', `the session is not waiting for a phone to link (status: ${status}); start it and wait for qr_required`, { status });
    }
    const pairingCode = await this.connect((connector) => connector.requestPairingCode(view.id, phoneNumber.replace(/^\+/, '')));
    return { pairingCode };
  }

  /** For the connection: records what it observed. Run inside the holder's fenced transaction. */
  /** Whether the session is still registered (not deleted meanwhile). */
  exists(sessionId: string): Promise<boolean> {
    return this.sessions.exists(sessionId);
  }

  recordConnectionState(sessionId: string, patch: ConnectionStatePatch, manager: EntityManager): Promise<void> {
    return this.sessions.recordConnectionState(sessionId, patch, manager);
  }

  /** The session as it stands after a change this service just made. */
  private async view(orgId: string, id: string): Promise<SessionResponse> {
    return SessionResponse.fromView(await this.ownership.requireOwned(orgId, id));
  }

  /** Calls the connection; its refusals become API errors here, at the boundary. */
  private async connect<T>(call: (connector: SessionConnector) => Promise<T>): Promise<T> {
    const connector = this.connector();
    try {
      return await call(connector);
    } catch (error) {
      if (error instanceof SessionConnectorError) throw connectorRefusalToApiError(error);
      throw error;
    }
  }

  private connector(): SessionConnector {
    if (!this.connectorInstance) {
      try {
        this.connectorInstance = this.moduleRef.get<SessionConnector>(SESSION_CONNECTOR, { strict: false });
      } catch {
        throw new AppError('unavailable', 'this process does not manage WhatsApp connections');
      }
    }
    return this.connectorInstance;
  }
}

function quotaExceeded({ quota, limit }: QuotaExceeded): AppError {
  const what = quota === 'sessions' ? 'sessions' : 'running sessions';
  const hint = quota === 'sessions' ? 'delete a session first' : 'stop a session first';
  return new AppError('quota_exceeded', `the organization has reached its quota of ${limit} ${what}; ${hint}`, { quota, limit });
}

/** The fields of a change that were given (class-transformer leaves the others undefined). */
function definedFields<T extends object>(change: T): Partial<T> {
  return Object.fromEntries(Object.entries(change).filter(([, value]) => value !== undefined)) as Partial<T>;
}
