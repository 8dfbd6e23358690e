import { ApiProperty } from '@nestjs/swagger';
import { EVENT_TYPES } from './event-types';
import type { EventType } from './event-types';

/** Event ids are the log's commit-ordered sequence, zero-padded so that they also sort as strings. */
const ID_DIGITS = 19;

export function formatEventId(id: bigint | string | number): string {
  return String(id).padStart(ID_DIGITS, '0');
}

/** An event id as a client sends it back (Last-Event-ID); undefined when it is not one. */
export function parseEventId(value: string): bigint | undefined {
  const trimmed = value.trim();
  if (!/^\d{1,19}$/.test(trimmed)) return undefined;
  const id = BigInt(trimmed);
  return id <= 9_223_372_036_854_775_807n ? id : undefined;
}

/** A row of the event log. */
export interface EventRow {
  id: string;
  type: EventType;
  org_id: string;
  session_id: string | null;
  occurred_at: string;
  data: Record<string, unknown>;
}

/** What decides who receives an event: everything but its data. */
export type EventRouting = Pick<EventRow, 'id' | 'type' | 'org_id' | 'session_id'>;

/** An event as webhooks deliver it and the stream sends it. */
export class GatewayEvent {
  @ApiProperty({
    example: '0000000000000004211',
    description: 'The event id: grows in the order events were committed; sorts as a string and as a number. Webhooks send it as `webhook-id`.',
  })
  id: string;

  @ApiProperty({ enum: EVENT_TYPES, example: 'chat.updated' })
  type: EventType;

  @ApiProperty({ example: 'org-acme' })
  orgId: string;

  @ApiProperty({
    type: 'string',
    nullable: true,
    example: '01J9ZX8K2QHV0M3T6R7P4N5W8C',
    description: 'The session the event is about; null for events about the organization (webhook.disabled).',
  })
  sessionId: string | null;

  @ApiProperty({ type: 'integer', format: 'int64', example: 1719662400123, description: 'When the change was committed, in milliseconds since the epoch.' })
  occurredAt: number;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'The resource as the REST API shows it: a chat as List chats lists it (chat.updated, chat.deleted: its id, jid, sessionId and type), a message as GET /sessions/{session}/messages/{message} shows it (message.received, message.updated; its `queue` is always null in an event), a session (session.status), a webhook (webhook.disabled).',
  })
  data: Record<string, unknown>;

  static fromRow(row: EventRow): GatewayEvent {
    return { id: formatEventId(row.id), type: row.type, orgId: row.org_id, sessionId: row.session_id, occurredAt: Number(row.occurred_at), data: row.data };
  }
}
