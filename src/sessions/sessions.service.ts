import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { EntityManager } from 'typeorm';
import { AppError } from '../common/errors/app-error';
import { CursorCodec } from '../common/pagination/cursor-codec';
import { PageQuery } from '../common/pagination/page-query';
import { cursorKeysToUlid, ulidToCursorKeys } from '../common/pagination/ulid-cursor-keys';
import { SessionSyncStatusResponse } from '../whatsapp-sync/sync/dto/sync-status.response';
import { SyncStatusService } from '../whatsapp-sync/sync/sync-status.service';
import { CreateSessionRequest } from './dto/create-session.request';
import { SessionDetailResponse } from './dto/session-detail.response';
import { PairingCodeResponse } from './dto/pairing-code.response';
import { SessionPageResponse } from './dto/session-page.response';
import { SessionQrResponse } from './dto/session-qr.response';
import { SessionResponse } from './dto/session.response';
import { UpdateSessionRequest } from './dto/update-session.request';
import { Session } from './session.entity';
import { SESSION_CONNECTOR, SessionConnector } from './session-connector';
import { newSessionId, normalizeSessionId } from './session-id';
import { renderQrPng } from './session-qr';
import { ConnectionStatePatch, SessionsRepository, SessionView } from './sessions.repository';

const CURSOR_KEYS = 2;

@Injectable()
export class SessionsService {
  private connectorInstance?: SessionConnector;

  constructor(
    private readonly sessions: SessionsRepository,
    private readonly cursors: CursorCodec,
    private readonly moduleRef: ModuleRef,
    private readonly syncStatus: SyncStatusService,
  ) {}

  /**
   * The ownership rule: a session id that is malformed, unknown, or owned by another org all give
   * the same 404, so a caller can never learn whether another org's session exists.
   */
  async requireOwnedSessionId(orgId: string, rawSessionId: string): Promise<string> {
    const id = normalizeSessionId(rawSessionId);
    const owned = id !== undefined && (await this.sessions.existsForOrg(orgId, id));
    if (!owned) throw AppError.notFound('session');
    return id;
  }

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

  async createForApi(orgId: string, request: CreateSessionRequest): Promise<SessionResponse> {
    const session = await this.create(orgId, request.name, { metadata: request.metadata, start: request.start ?? true });
    if (session.desiredState === 'running') await this.connector().start(session.id);
    return this.view(orgId, session.id);
  }

  async list(orgId: string, page: PageQuery): Promise<SessionPageResponse> {
    const scope = `sessions:${orgId}`;
    const after = page.cursor === undefined ? undefined : this.decodeCursor(scope, page.cursor);
    const rows = await this.sessions.findPageForOrg(orgId, page.limit + 1, after);
    const hasMore = rows.length > page.limit;
    const pageRows = hasMore ? rows.slice(0, page.limit) : rows;
    return {
      data: pageRows.map(SessionResponse.fromView),
      nextCursor: hasMore ? this.cursors.encode(scope, ulidToCursorKeys(pageRows[pageRows.length - 1].id)) : null,
    };
  }

  async get(orgId: string, rawSessionId: string): Promise<SessionDetailResponse> {
    const id = await this.requireOwnedSessionId(orgId, rawSessionId);
    const [session, sync] = await Promise.all([this.view(orgId, id), this.syncStatus.statusOf(id)]);
    return { ...session, sync: SessionSyncStatusResponse.from(sync) };
  }

  async update(orgId: string, rawSessionId: string, request: UpdateSessionRequest): Promise<SessionResponse> {
    const id = await this.requireOwnedSessionId(orgId, rawSessionId);
    if (request.name === undefined && request.metadata === undefined) {
      throw AppError.invalidArgument('give at least one of name and metadata', { parameter: 'body' });
    }
    await this.sessions.updateSettings(id, { name: request.name, metadata: request.metadata });
    return this.view(orgId, id);
  }

  async start(orgId: string, rawSessionId: string): Promise<SessionResponse> {
    const id = await this.requireOwnedSessionId(orgId, rawSessionId);
    await this.sessions.markRunning(id);
    await this.connector().start(id);
    return this.view(orgId, id);
  }

  async stop(orgId: string, rawSessionId: string): Promise<SessionResponse> {
    const id = await this.requireOwnedSessionId(orgId, rawSessionId);
    await this.sessions.markStopping(id);
    await this.connector().stop(id);
    await this.sessions.settleStopped(id);
    return this.view(orgId, id);
  }

  async logout(orgId: string, rawSessionId: string): Promise<SessionResponse> {
    const id = await this.requireOwnedSessionId(orgId, rawSessionId);
    await this.sessions.markStopping(id);
    await this.connector().logout(id);
    return this.view(orgId, id);
  }

  /** Logs out (best effort: a holder that does not answer loses its lease with the row), then removes the session and all it stored. */
  async delete(orgId: string, rawSessionId: string): Promise<void> {
    const id = await this.requireOwnedSessionId(orgId, rawSessionId);
    await this.sessions.markStopping(id);
    try {
      await this.connector().logout(id);
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'unavailable')) throw error;
    }
    await this.sessions.delete(id);
  }

  async currentQr(orgId: string, rawSessionId: string): Promise<SessionQrResponse> {
    const id = await this.requireOwnedSessionId(orgId, rawSessionId);
    const view = await this.requireView(orgId, id);
    const { status } = SessionResponse.fromView(view);
    if (status !== 'qr_required' || !view.qrCode || !view.qrIssuedAt) {
      throw new AppError('conflict', `the session is not waiting for a QR scan (status: ${status})`, { status });
    }
    return { qr: view.qrCode, image: await renderQrPng(view.qrCode), issuedAt: view.qrIssuedAt.toISOString() };
  }

  async requestPairingCode(orgId: string, rawSessionId: string, phoneNumber: string): Promise<PairingCodeResponse> {
    const id = await this.requireOwnedSessionId(orgId, rawSessionId);
    const view = await this.requireView(orgId, id);
    const { status } = SessionResponse.fromView(view);
    if (status !== 'qr_required') {
      throw new AppError('conflict', `the session is not waiting for a phone to link (status: ${status}); start it and wait for qr_required`, { status });
    }
    const pairingCode = await this.connector().requestPairingCode(id, phoneNumber.replace(/^\+/, ''));
    return { pairingCode };
  }

  /** For the connection: records what it observed. Run inside the holder's fenced transaction. */
  recordConnectionState(sessionId: string, patch: ConnectionStatePatch, manager: EntityManager): Promise<void> {
    return this.sessions.recordConnectionState(sessionId, patch, manager);
  }

  private async view(orgId: string, id: string): Promise<SessionResponse> {
    return SessionResponse.fromView(await this.requireView(orgId, id));
  }

  private async requireView(orgId: string, id: string): Promise<SessionView> {
    const view = await this.sessions.findViewForOrg(orgId, id);
    if (!view) throw AppError.notFound('session');
    return view;
  }

  private decodeCursor(scope: string, cursor: string): string {
    const id = cursorKeysToUlid(this.cursors.decode(scope, cursor, CURSOR_KEYS));
    if (!id) throw AppError.invalidArgument('cursor is not valid for this listing', { parameter: 'cursor' });
    return id;
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
