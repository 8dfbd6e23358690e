import { ApiProperty } from '@nestjs/swagger';
import { SessionSyncStatusResponse } from './session-sync-status.response';
import { SESSION_EXAMPLE, SessionResponse } from './session.response';

/** GET /sessions/{id}: the session, plus how far the stored copy of its chats has synced. */
export class SessionDetailResponse extends SessionResponse {
  @ApiProperty({ type: SessionSyncStatusResponse, description: "The sync of the session's stored copy: last applied events and the history sync's progress." })
  sync: SessionSyncStatusResponse;
}

export const SESSION_DETAIL_EXAMPLE: SessionDetailResponse = {
  ...SESSION_EXAMPLE,
  sync: {
    lastSyncAt: '2025-06-29T12:00:05.000Z',
    history: { status: 'running', syncType: 'recent', progress: 42, chunks: 7, chats: 1830, updatedAt: '2025-06-29T12:00:04.000Z' },
  },
};
