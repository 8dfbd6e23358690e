import { Session } from './session.entity';
import type { SendPacing } from './dto/send-pacing';
import type { DesiredState, DisconnectReasonName, SessionStatus } from './session-status';

/** A session as the API shows it: the row, plus the replica that holds a live lease on it. */
export type SessionView = Session & { heldBy: string | null };

/** One row of SESSION_VIEW as pg returns it. */
export interface RawSessionView {
  id: string;
  org_id: string;
  name: string;
  metadata: Record<string, unknown>;
  status: SessionStatus;
  send_pacing: SendPacing | null;
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

/**
 * The sessions (as `s`) with their holder; add a WHERE clause. The lease counts only while it is
 * live by the database's clock.
 */
export const SESSION_VIEW = `
  SELECT s.*, l.owner AS held_by
  FROM sessions s
  LEFT JOIN session_leases l ON l.session_id = s.id AND l.owner IS NOT NULL AND l.expires_at > now()`;

export function toSessionView(row: RawSessionView): SessionView {
  return Object.assign(new Session(), {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    metadata: row.metadata,
    status: row.status,
    sendPacing: row.send_pacing,
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
