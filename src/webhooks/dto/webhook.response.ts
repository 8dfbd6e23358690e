import { ApiProperty } from '@nestjs/swagger';
import { EVENT_TYPES } from '../../events/event-types';
import type { EventType } from '../../events/event-types';
import { ApiNextCursor } from '../../common/pagination/next-cursor.property';
import type { WebhookRow } from '../webhooks.repository';

export class WebhookResponse {
  @ApiProperty({ example: '01JB4T6R8S1V3W5X7Y9Z0A2B4C', description: 'The webhook id (a ULID).' })
  id: string;

  @ApiProperty({ example: 'https://crm.example.com/hooks/whatsapp', description: 'Where deliveries are POSTed.' })
  url: string;

  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...EVENT_TYPES] }, example: ['chat.updated', 'session.status'] })
  eventTypes: EventType[];

  @ApiProperty({ type: 'string', nullable: true, example: null, description: 'Only events of this session; null for every session of the organization.' })
  sessionId: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: 'CRM sync' })
  description: string | null;

  @ApiProperty({
    example: true,
    description: 'Disabled webhooks receive nothing; the gateway disables one whose deliveries failed for the whole retry schedule (see disabledReason).',
  })
  enabled: boolean;

  @ApiProperty({ type: 'string', nullable: true, example: null, description: 'Why the gateway disabled it; null when enabled or disabled by a person.' })
  disabledReason: string | null;

  @ApiProperty({
    type: 'string',
    format: 'date-time',
    nullable: true,
    example: null,
    description: 'After a secret rotation: until when deliveries are also signed with the previous secret.',
  })
  previousSecretExpiresAt: string | null;

  @ApiProperty({ type: 'string', format: 'date-time', example: '2025-06-29T12:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ type: 'string', format: 'date-time', example: '2025-06-29T12:00:00.000Z' })
  updatedAt: string;

  static fromRow(row: WebhookRow): WebhookResponse {
    const expires = row.previous_secret_expires_at ? new Date(row.previous_secret_expires_at) : null;
    return {
      id: row.id,
      url: row.url,
      eventTypes: row.event_types,
      sessionId: row.session_id,
      description: row.description,
      enabled: row.enabled,
      disabledReason: row.disabled_reason,
      previousSecretExpiresAt: expires && expires.getTime() > Date.now() ? expires.toISOString() : null,
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    };
  }
}

export class CreatedWebhookResponse extends WebhookResponse {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw2yiAeCtVpkw=',
    description: 'The signing secret in the Standard Webhooks form (`whsec_` + base64), for the receiver to verify `webhook-signature`. Shown this once.',
  })
  secret: string;
}

export class WebhookPageResponse {
  @ApiProperty({ type: [WebhookResponse] })
  data: WebhookResponse[];

  @ApiNextCursor()
  nextCursor: string | null;
}

export const WEBHOOK_EXAMPLE: WebhookResponse = {
  id: '01JB4T6R8S1V3W5X7Y9Z0A2B4C',
  url: 'https://crm.example.com/hooks/whatsapp',
  eventTypes: ['chat.updated', 'session.status'],
  sessionId: null,
  description: 'CRM sync',
  enabled: true,
  disabledReason: null,
  previousSecretExpiresAt: null,
  createdAt: '2025-06-29T12:00:00.000Z',
  updatedAt: '2025-06-29T12:00:00.000Z',
};
export const SECRET_EXAMPLE = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw2yiAeCtVpkw=';
