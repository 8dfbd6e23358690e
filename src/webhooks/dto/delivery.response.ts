import { ApiProperty } from '@nestjs/swagger';
import { EVENT_TYPES } from '../../events/event-types';
import type { EventType } from '../../events/event-types';
import { formatEventId } from '../../events/gateway-event';
import { ApiNextCursor } from '../../common/pagination/next-cursor.property';
import type { DeliveryRow, DeliveryStatus } from '../webhooks.repository';

const iso = (value: Date | null) => (value ? new Date(value).toISOString() : null);

export class DeliveryResponse {
  @ApiProperty({ example: '01JB4V2K7M9N1P3Q5R7S9T1V3W', description: 'The delivery id (a ULID).' })
  id: string;

  @ApiProperty({ example: '0000000000000004211', description: 'The event delivered; also the `webhook-id` header of every attempt.' })
  eventId: string;

  @ApiProperty({ enum: EVENT_TYPES, example: 'chat.updated' })
  eventType: EventType;

  @ApiProperty({
    enum: ['pending', 'delivered', 'failed'],
    example: 'delivered',
    description:
      '`pending`: waiting for its first attempt or a retry; `delivered`: a 2xx answer; `failed`: the retry schedule is used up (or the webhook was disabled).',
  })
  status: DeliveryStatus;

  @ApiProperty({ type: 'integer', minimum: 0, example: 1 })
  attempts: number;

  @ApiProperty({ example: false, description: 'Whether it was queued by a replay.' })
  replay: boolean;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 200,
    description: "The last attempt's HTTP status; null when it got none (timeout, refused, connection error).",
  })
  responseStatus: number | null;

  @ApiProperty({ type: 'integer', nullable: true, example: 42, description: "The last attempt's duration in milliseconds." })
  durationMs: number | null;

  @ApiProperty({
    type: 'string',
    nullable: true,
    example: null,
    description: 'Why the last attempt failed when the status does not say (timeout, refused address, redirect).',
  })
  error: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: 'ok', description: "The start of the last answer's body (at most 1 KiB)." })
  responseExcerpt: string | null;

  @ApiProperty({ type: 'string', format: 'date-time', example: '2025-06-29T12:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true, example: '2025-06-29T12:00:00.050Z' })
  lastAttemptAt: string | null;

  @ApiProperty({
    type: 'string',
    format: 'date-time',
    nullable: true,
    example: null,
    description: 'When the next retry is due; null unless pending after a failure.',
  })
  nextAttemptAt: string | null;

  static fromRow(row: DeliveryRow): DeliveryResponse {
    return {
      id: row.id,
      eventId: formatEventId(row.event_id),
      eventType: row.event_type,
      status: row.status,
      attempts: row.attempts,
      replay: row.replay,
      responseStatus: row.response_status,
      durationMs: row.duration_ms,
      error: row.error,
      responseExcerpt: row.response_excerpt,
      createdAt: new Date(row.created_at).toISOString(),
      lastAttemptAt: iso(row.last_attempt_at),
      nextAttemptAt: iso(row.next_attempt_at),
    };
  }
}

export class DeliveryPageResponse {
  @ApiProperty({ type: [DeliveryResponse] })
  data: DeliveryResponse[];

  @ApiNextCursor()
  nextCursor: string | null;
}

export class ReplayResponse {
  @ApiProperty({ type: 'integer', example: 120, description: 'Deliveries queued: one per event of the range this webhook wants.' })
  queued: number;

  @ApiProperty({
    example: false,
    description: 'True when the range held more than 10,000 such events: only the first 10,000 were queued; replay again from the last one.',
  })
  truncated: boolean;
}

export const DELIVERY_EXAMPLE: DeliveryResponse = {
  id: '01JB4V2K7M9N1P3Q5R7S9T1V3W',
  eventId: '0000000000000004211',
  eventType: 'chat.updated',
  status: 'delivered',
  attempts: 1,
  replay: false,
  responseStatus: 200,
  durationMs: 42,
  error: null,
  responseExcerpt: 'ok',
  createdAt: '2025-06-29T12:00:00.000Z',
  lastAttemptAt: '2025-06-29T12:00:00.050Z',
  nextAttemptAt: null,
};
