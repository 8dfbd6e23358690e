import type { SendPacing } from './dto/send-pacing';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Page, pageOf, rowsToRead } from '../common/pagination/page-query';
import { checkOrgQuota, OrgQuotaDefaults, QuotaExceeded } from './org-quotas';
import { Session } from './session.entity';
import { RawSessionView, SESSION_VIEW, SessionView, toSessionView } from './session-view';

/** What the connection reports about a session (every field optional; only given ones change). */
export type ConnectionStatePatch = Partial<
  Pick<
    Session,
    | 'status'
    | 'desiredState'
    | 'phoneJid'
    | 'pushName'
    | 'qrCode'
    | 'qrIssuedAt'
    | 'lastError'
    | 'lastDisconnectCode'
    | 'lastDisconnectReason'
    | 'lastDisconnectAt'
    | 'reconnectAttempts'
    | 'nextReconnectAt'
    | 'connectedAt'
  >
>;

const STATE_COLUMNS: Record<keyof ConnectionStatePatch, string> = {
  status: 'status',
  desiredState: 'desired_state',
  phoneJid: 'phone_jid',
  pushName: 'push_name',
  qrCode: 'qr_code',
  qrIssuedAt: 'qr_issued_at',
  lastError: 'last_error',
  lastDisconnectCode: 'last_disconnect_code',
  lastDisconnectReason: 'last_disconnect_reason',
  lastDisconnectAt: 'last_disconnect_at',
  reconnectAttempts: 'reconnect_attempts',
  nextReconnectAt: 'next_reconnect_at',
  connectedAt: 'connected_at',
};

// start: meant to be connected from now on. A session that was not running shows `connecting` with a clean slate.
const MARK_RUNNING = `UPDATE sessions
  SET desired_state = 'running', status = 'connecting', last_error = NULL, reconnect_attempts = 0, next_reconnect_at = NULL,
      qr_code = NULL, qr_issued_at = NULL, updated_at = now()
  WHERE id = $1 AND desired_state <> 'running'`;

@Injectable()
export class SessionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(session: Pick<Session, 'id' | 'orgId' | 'name' | 'metadata' | 'status' | 'desiredState'>): Promise<Session> {
    const repository = this.dataSource.getRepository(Session);
    return repository.save(repository.create(session));
  }

  /** Inserts the session unless the org is at a quota (org-quotas.ts); then nothing is written and the quota is returned. */
  insertWithinQuota(
    session: Pick<Session, 'id' | 'orgId' | 'name' | 'metadata' | 'status' | 'desiredState'>,
    quotas: OrgQuotaDefaults,
  ): Promise<Session | QuotaExceeded> {
    return this.dataSource.transaction(async (manager) => {
      const exceeded = await checkOrgQuota(manager, session.orgId, quotas, { adding: true, running: session.desiredState === 'running' });
      if (exceeded) return exceeded;
      const repository = manager.getRepository(Session);
      return repository.save(repository.create(session));
    });
  }

  /** markRunning, unless that would take the org over its running-session quota (then returned, nothing written). */
  markRunningWithinQuota(id: string, orgId: string, quotas: OrgQuotaDefaults): Promise<QuotaExceeded | undefined> {
    return this.dataSource.transaction(async (manager) => {
      const exceeded = await checkOrgQuota(manager, orgId, quotas, { adding: false, running: true, sessionId: id });
      if (exceeded) {
        const [current]: { desired_state: string }[] = await manager.query(`SELECT desired_state FROM sessions WHERE id = $1`, [id]);
        // Starting a session that runs already takes nothing more.
        if (current?.desired_state !== 'running') return exceeded;
      }
      await manager.query(MARK_RUNNING, [id]);
      return undefined;
    });
  }

  /** A page of the org's sessions in id (= creation) order, after `afterId` when given. */
  async findPageForOrg(orgId: string, limit: number, afterId?: string): Promise<Page<SessionView>> {
    const rows: RawSessionView[] = afterId
      ? await this.dataSource.query(`${SESSION_VIEW} WHERE s.org_id = $1 AND s.id > $3 ORDER BY s.id LIMIT $2`, [orgId, rowsToRead(limit), afterId])
      : await this.dataSource.query(`${SESSION_VIEW} WHERE s.org_id = $1 ORDER BY s.id LIMIT $2`, [orgId, rowsToRead(limit)]);
    return pageOf(rows.map(toSessionView), limit);
  }

  /**
   * `sendPacing`: undefined keeps it, null returns to the defaults, a change is merged over the
   * current settings (or `defaults`) in the statement, so concurrent changes of different fields
   * both hold.
   */
  async updateSettings(
    id: string,
    changes: { name?: string; metadata?: Record<string, unknown>; sendPacing?: { defaults: SendPacing; change: Partial<SendPacing> } | null },
  ): Promise<void> {
    const pacing = changes.sendPacing;
    await this.dataSource.query(
      `UPDATE sessions SET name = COALESCE($2, name), metadata = COALESCE($3::jsonb, metadata),
        send_pacing = CASE $4 WHEN 'reset' THEN NULL WHEN 'merge' THEN COALESCE(send_pacing, $5::jsonb) || $6::jsonb ELSE send_pacing END,
        updated_at = now() WHERE id = $1`,
      [
        id,
        changes.name ?? null,
        changes.metadata === undefined ? null : JSON.stringify(changes.metadata),
        pacing === undefined ? 'keep' : pacing === null ? 'reset' : 'merge',
        pacing ? JSON.stringify(pacing.defaults) : null,
        pacing ? JSON.stringify(pacing.change) : null,
      ],
    );
  }

  async exists(id: string): Promise<boolean> {
    return (await this.dataSource.query<unknown[]>(`SELECT 1 FROM sessions WHERE id = $1`, [id])).length > 0;
  }

  async markStopping(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE sessions SET desired_state = 'stopped', updated_at = now() WHERE id = $1 AND desired_state <> 'stopped'`, [id]);
  }

  /**
   * A stopped session nobody holds: its live-looking status is stale, settle it. Conditional on
   * `stopped` so that a concurrent start wins.
   */
  async settleStopped(id: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE sessions SET status = 'stopped', qr_code = NULL, qr_issued_at = NULL, next_reconnect_at = NULL, updated_at = now()
       WHERE id = $1 AND desired_state = 'stopped' AND status IN ('connecting', 'qr_required', 'connected')`,
      [id],
    );
  }

  /** Writes what the connection reports; run it inside the holder's fenced transaction (`manager`). */
  async recordConnectionState(id: string, patch: ConnectionStatePatch, manager: EntityManager): Promise<void> {
    const entries = Object.entries(patch).filter(([, value]) => value !== undefined) as [keyof ConnectionStatePatch, unknown][];
    if (entries.length === 0) return;
    const assignments = entries.map(([key], index) => `${STATE_COLUMNS[key]} = $${index + 2}`);
    await manager.query(`UPDATE sessions SET ${assignments.join(', ')}, updated_at = now() WHERE id = $1`, [id, ...entries.map(([, value]) => value)]);
  }

  async delete(id: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM sessions WHERE id = $1`, [id]);
  }
}
