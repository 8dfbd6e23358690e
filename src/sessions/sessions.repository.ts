import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Session } from './session.entity';
import type { DesiredState, DisconnectReasonName, SessionStatus } from './session-status';

/** A session as the API shows it: the row, plus the replica that holds a live lease on it. */
export type SessionView = Session & { heldBy: string | null };

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

interface RawSessionView {
  id: string;
  org_id: string;
  name: string;
  metadata: Record<string, unknown>;
  status: SessionStatus;
  desired_state: DesiredState;
  phone_jid: string | null;
  push_name: string | null;
  qr_code: string | null;
  qr_issued_at: Date | null;
  last_error: string | null;
  last_disconnect_code: number | null;
  last_disconnect_reason: DisconnectReasonName | null;
  last_disconnect_at: Date | null;
  reconnect_attempts: number;
  next_reconnect_at: Date | null;
  connected_at: Date | null;
  created_at: Date;
  updated_at: Date;
  held_by: string | null;
}

// The lease counts only while it is live by the database's clock.
const VIEW = `
  SELECT s.*, l.owner AS held_by
  FROM sessions s
  LEFT JOIN session_leases l ON l.session_id = s.id AND l.owner IS NOT NULL AND l.expires_at > now()`;

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

@Injectable()
export class SessionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async existsForOrg(orgId: string, id: string): Promise<boolean> {
    const rows = await this.dataSource.query(`SELECT 1 FROM sessions WHERE id = $1 AND org_id = $2`, [id, orgId]);
    return rows.length > 0;
  }

  async insert(session: Pick<Session, 'id' | 'orgId' | 'name' | 'metadata' | 'status' | 'desiredState'>): Promise<Session> {
    const repository = this.dataSource.getRepository(Session);
    return repository.save(repository.create(session));
  }

  async findViewForOrg(orgId: string, id: string): Promise<SessionView | undefined> {
    const rows: RawSessionView[] = await this.dataSource.query(`${VIEW} WHERE s.id = $1 AND s.org_id = $2`, [id, orgId]);
    return rows[0] && toView(rows[0]);
  }

  /** Up to `count` of the org's sessions in id (= creation) order, after `afterId` when given. */
  async findPageForOrg(orgId: string, count: number, afterId?: string): Promise<SessionView[]> {
    const rows: RawSessionView[] = afterId
      ? await this.dataSource.query(`${VIEW} WHERE s.org_id = $1 AND s.id > $3 ORDER BY s.id LIMIT $2`, [orgId, count, afterId])
      : await this.dataSource.query(`${VIEW} WHERE s.org_id = $1 ORDER BY s.id LIMIT $2`, [orgId, count]);
    return rows.map(toView);
  }

  async updateSettings(id: string, changes: { name?: string; metadata?: Record<string, unknown> }): Promise<void> {
    await this.dataSource.query(
      `UPDATE sessions SET name = COALESCE($2, name), metadata = COALESCE($3::jsonb, metadata), updated_at = now() WHERE id = $1`,
      [id, changes.name ?? null, changes.metadata === undefined ? null : JSON.stringify(changes.metadata)],
    );
  }

  /** start: meant to be connected from now on. A session that was not running shows `connecting` with a clean slate. */
  async markRunning(id: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE sessions
       SET desired_state = 'running', status = 'connecting', last_error = NULL, reconnect_attempts = 0, next_reconnect_at = NULL,
           qr_code = NULL, qr_issued_at = NULL, updated_at = now()
       WHERE id = $1 AND desired_state <> 'running'`,
      [id],
    );
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

function toView(row: RawSessionView): SessionView {
  return Object.assign(new Session(), {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    metadata: row.metadata,
    status: row.status,
    desiredState: row.desired_state,
    phoneJid: row.phone_jid,
    pushName: row.push_name,
    qrCode: row.qr_code,
    qrIssuedAt: row.qr_issued_at,
    lastError: row.last_error,
    lastDisconnectCode: row.last_disconnect_code,
    lastDisconnectReason: row.last_disconnect_reason,
    lastDisconnectAt: row.last_disconnect_at,
    reconnectAttempts: row.reconnect_attempts,
    nextReconnectAt: row.next_reconnect_at,
    connectedAt: row.connected_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    heldBy: row.held_by,
  });
}
