/** How far the stored copy of a session's chats has synced: its last applied events and its history sync. */
export interface SessionSyncStatus {
  lastSyncAt: Date | null;
  eventsApplied: number;
  history: {
    status: 'none' | 'running' | 'complete' | 'paused';
    syncType: string | null;
    progress: number | null;
    chunks: number;
    chats: number;
    updatedAt: Date | null;
  };
}

/**
 * What the sessions API asks of the WhatsApp sync: a session's sync status, for GET /sessions/{id}.
 * Implemented by the sync's data side (SyncStatusService) and injected as SESSION_SYNC_STATUS, so
 * that sessions knows this interface and not the sync.
 */
export interface SessionSyncStatusReader {
  /** The caller has already checked that the session exists and is owned. */
  statusOf(sessionId: string): Promise<SessionSyncStatus>;
}

export const SESSION_SYNC_STATUS = Symbol('SESSION_SYNC_STATUS');
