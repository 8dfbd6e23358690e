import { Injectable } from '@nestjs/common';
import type { SessionSyncStatus, SessionSyncStatusReader } from '../../sessions/session-sync-status';
import { SyncStateStore } from './store/sync-state.store';

/** A session's sync state as stored: its last sync time and the progress of its history sync. */
@Injectable()
export class SyncStatusService implements SessionSyncStatusReader {
  constructor(private readonly store: SyncStateStore) {}

  /** The caller has already checked that the session exists and is owned. */
  async statusOf(sessionId: string): Promise<SessionSyncStatus> {
    const row = await this.store.readSyncState(sessionId);
    return {
      lastSyncAt: row?.last_event_at ?? null,
      eventsApplied: Number(row?.events_applied ?? 0),
      history: {
        status: row?.history_status ?? 'none',
        syncType: row?.history_sync_type ?? null,
        progress: row?.history_progress ?? null,
        chunks: row?.history_chunks ?? 0,
        chats: Number(row?.history_chats ?? 0),
        updatedAt: row?.history_updated_at ?? null,
      },
    };
  }
}
