import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { jsonRows, SessionTx } from './session-tx';

export interface HistoryProgress {
  syncType: string | null;
  progress: number | null;
  chats: number;
}

// A deletion leaves a tombstone for both JIDs of the chat, as of the chat's latest known state:
// an event no newer than that (a late or replayed one) does not bring the chat back.
const DELETE_CHATS = `
  WITH deleted AS (
    DELETE FROM chats c USING json_to_recordset($2::json) AS r(jid text)
    WHERE c.session_id = $1 AND (c.jid = r.jid OR c.alt_jid = r.jid)
    RETURNING c.jid, c.alt_jid, GREATEST(c.last_message_at, c.unread_as_of, c.snapshot_at, 0) AS as_of)
  INSERT INTO sync_tombstones AS t (session_id, jid, deleted_as_of)
  SELECT $1, j.jid, max(d.as_of) FROM deleted d CROSS JOIN LATERAL (VALUES (d.jid), (d.alt_jid)) AS j(jid)
  WHERE j.jid IS NOT NULL GROUP BY j.jid
  ON CONFLICT (session_id, jid) DO UPDATE SET deleted_as_of = GREATEST(t.deleted_as_of, EXCLUDED.deleted_as_of), deleted_at = now()
  RETURNING jid`;

const RECORD_HISTORY = `
  INSERT INTO session_sync_state AS s (session_id, history_status, history_sync_type, history_progress, history_chunks, history_chats, history_updated_at)
  VALUES ($1, CASE WHEN $3::int >= 100 THEN 'complete' ELSE 'running' END, $2, $3, 1, $4, now())
  ON CONFLICT (session_id) DO UPDATE SET
    history_status = CASE WHEN $3::int >= 100 THEN 'complete' WHEN $3::int IS NOT NULL OR s.history_status IN ('none', 'paused') THEN 'running'
      ELSE s.history_status END,
    history_sync_type = COALESCE($2, s.history_sync_type),
    history_progress = COALESCE($3, s.history_progress),
    history_chunks = s.history_chunks + 1,
    history_chats = s.history_chats + $4,
    history_updated_at = now()`;
const RECORD_HISTORY_STATUS = `
  INSERT INTO session_sync_state AS s (session_id, history_status, history_sync_type, history_updated_at)
  VALUES ($1, $2, $3, now())
  ON CONFLICT (session_id) DO UPDATE SET history_status = $2, history_sync_type = COALESCE($3, s.history_sync_type), history_updated_at = now()`;
const RECORD_APPLIED = `
  INSERT INTO session_sync_state AS s (session_id, last_event_at, events_applied) VALUES ($1, now(), $2)
  ON CONFLICT (session_id) DO UPDATE SET last_event_at = now(), events_applied = s.events_applied + $2`;

export interface SyncStateRow {
  last_event_at: Date | null;
  events_applied: string;
  history_status: 'none' | 'running' | 'complete' | 'paused';
  history_sync_type: string | null;
  history_progress: number | null;
  history_chunks: number;
  history_chats: string;
  history_updated_at: Date | null;
}

const READ_SYNC_STATE = `SELECT * FROM session_sync_state WHERE session_id = $1`;

export const SYNC_STATE_STATEMENTS: Record<string, string> = { DELETE_CHATS, RECORD_HISTORY, RECORD_HISTORY_STATUS, RECORD_APPLIED, READ_SYNC_STATE };

/** Deleted chats (and the tombstones that keep them deleted), and each session's sync progress. */
@Injectable()
export class SyncStateStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async deleteChats(tx: SessionTx, jids: string[]): Promise<number> {
    if (jids.length === 0) return 0;
    return (await tx.query(DELETE_CHATS, [jsonRows(jids.map((jid) => ({ jid })))])).length;
  }

  async recordHistoryProgress(tx: SessionTx, progress: HistoryProgress): Promise<void> {
    await tx.query(RECORD_HISTORY, [progress.syncType, progress.progress, progress.chats]);
  }

  async recordHistoryStatus(tx: SessionTx, syncType: string | null, status: 'complete' | 'paused'): Promise<void> {
    await tx.query(RECORD_HISTORY_STATUS, [status, syncType]);
  }

  async recordApplied(tx: SessionTx, events: number): Promise<void> {
    await tx.query(RECORD_APPLIED, [events]);
  }

  async readSyncState(sessionId: string): Promise<SyncStateRow | undefined> {
    const rows: SyncStateRow[] = await this.dataSource.query(READ_SYNC_STATE, [sessionId]);
    return rows[0];
  }
}
