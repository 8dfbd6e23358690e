import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `session.status` events show the session as GET /sessions/{id} does, which now includes
 * `sendPacing` (migration 1765021000000): event_session_json (migration 1765018000000) adds it.
 */
export class SessionEventSendPacing1765022200000 implements MigrationInterface {
  name = 'SessionEventSendPacing1765022200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(sessionJson(true));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(sessionJson(false));
  }
}

const sessionJson = (withPacing: boolean) => `
  CREATE OR REPLACE FUNCTION event_session_json(s sessions) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
  DECLARE
    held text;
    shown text;
    iso constant text := 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"';
  BEGIN
    SELECT owner INTO held FROM session_leases WHERE session_id = s.id AND owner IS NOT NULL AND expires_at > now();
    shown := CASE WHEN held IS NULL AND s.status IN ('connecting', 'qr_required', 'connected')
      THEN CASE WHEN s.desired_state = 'running' THEN 'connecting' ELSE 'stopped' END ELSE s.status END;
    RETURN jsonb_build_object(
      'id', s.id, 'name', s.name, 'metadata', s.metadata, 'status', shown, 'desiredState', s.desired_state,
      'phoneJid', s.phone_jid, 'pushName', s.push_name, 'heldBy', held, 'lastError', s.last_error,
      'lastDisconnect', CASE WHEN s.last_disconnect_reason IS NOT NULL AND s.last_disconnect_at IS NOT NULL THEN jsonb_build_object(
        'reason', s.last_disconnect_reason, 'code', s.last_disconnect_code, 'at', to_char(s.last_disconnect_at AT TIME ZONE 'UTC', iso)) END,
      'reconnectAttempts', s.reconnect_attempts,
      'nextReconnectAt', CASE WHEN held IS NOT NULL THEN to_char(s.next_reconnect_at AT TIME ZONE 'UTC', iso) END,
      'connectedAt', to_char(s.connected_at AT TIME ZONE 'UTC', iso),
      'createdAt', to_char(s.created_at AT TIME ZONE 'UTC', iso),
      'updatedAt', to_char(s.updated_at AT TIME ZONE 'UTC', iso))${withPacing ? " || jsonb_build_object('sendPacing', s.send_pacing)" : ''};
  END $$`;
