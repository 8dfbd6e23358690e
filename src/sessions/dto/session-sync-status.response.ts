import { ApiProperty } from '@nestjs/swagger';
import type { SessionSyncStatus } from '../session-sync-status';

export class HistorySyncStatusResponse {
  @ApiProperty({
    enum: ['none', 'running', 'complete', 'paused'],
    example: 'running',
    description:
      '`none` before the first history sync, `running` while chunks arrive, `complete` when WhatsApp said so (progress 100 or its completion signal), `paused` when chunks stopped arriving.',
  })
  status: 'none' | 'running' | 'complete' | 'paused';

  @ApiProperty({
    type: 'string',
    nullable: true,
    example: 'recent',
    description: 'The latest history sync type: initial_bootstrap, recent, full, push_name, on_demand, ...',
  })
  syncType: string | null;

  @ApiProperty({ type: 'integer', nullable: true, example: 42, description: "WhatsApp's progress of the history sync in percent, when it reports one." })
  progress: number | null;

  @ApiProperty({ type: 'integer', example: 7, description: 'History sync chunks stored so far.' })
  chunks: number;

  @ApiProperty({ type: 'integer', example: 1830, description: 'Chats received in history sync chunks so far.' })
  chats: number;

  @ApiProperty({
    type: 'string',
    format: 'date-time',
    nullable: true,
    example: '2025-01-01T12:00:00.000Z',
    description: 'When the last chunk or status arrived.',
  })
  updatedAt: string | null;
}

export class SessionSyncStatusResponse {
  @ApiProperty({
    type: 'string',
    format: 'date-time',
    nullable: true,
    example: '2025-01-01T12:00:05.000Z',
    description: "When the last batch of WhatsApp events was applied to the session's stored chats; null if never.",
  })
  lastSyncAt: string | null;

  @ApiProperty({ type: HistorySyncStatusResponse })
  history: HistorySyncStatusResponse;

  static from(status: SessionSyncStatus): SessionSyncStatusResponse {
    return {
      lastSyncAt: status.lastSyncAt?.toISOString() ?? null,
      history: { ...status.history, updatedAt: status.history.updatedAt?.toISOString() ?? null },
    };
  }
}
