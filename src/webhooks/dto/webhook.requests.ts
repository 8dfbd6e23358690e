import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Length,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { EVENT_TYPES } from '../../events/event-types';
import type { EventType } from '../../events/event-types';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const TYPES_MESSAGE = `each event type must be one of ${EVENT_TYPES.join(', ')}`;

export class CreateWebhookRequest {
  @ApiProperty({
    example: 'https://crm.example.com/hooks/whatsapp',
    maxLength: 2000,
    description: 'An http(s) URL that resolves to public addresses only (unless WEBHOOK_ALLOWED_NETWORKS names its network).',
  })
  @IsString()
  @MaxLength(2000)
  url: string;

  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: [...EVENT_TYPES] },
    minItems: 1,
    example: ['message.received', 'message.updated', 'session.status'],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(EVENT_TYPES.length * 4)
  @IsIn(EVENT_TYPES, { each: true, message: TYPES_MESSAGE })
  eventTypes: EventType[];

  @ApiPropertyOptional({
    type: 'string',
    example: '01J9ZX8K2QHV0M3T6R7P4N5W8C',
    description: "Only events of this session (one of the caller's organization).",
  })
  @IsOptional()
  @IsString()
  sessionId?: string;

  @ApiPropertyOptional({ example: 'CRM sync', maxLength: 200 })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @Length(1, 200)
  description?: string;

  @ApiPropertyOptional({ default: true, example: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class UpdateWebhookRequest {
  @ApiPropertyOptional({ example: 'https://crm.example.com/hooks/whatsapp-v2', maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  url?: string;

  @ApiPropertyOptional({ type: 'array', items: { type: 'string', enum: [...EVENT_TYPES] }, minItems: 1, example: ['chat.updated'] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(EVENT_TYPES.length * 4)
  @IsIn(EVENT_TYPES, { each: true, message: TYPES_MESSAGE })
  eventTypes?: EventType[];

  @ApiPropertyOptional({ type: 'string', nullable: true, example: null, description: 'A session to filter on, or null for every session.' })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  sessionId?: string | null;

  @ApiPropertyOptional({ type: 'string', nullable: true, example: 'CRM sync', maxLength: 200 })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @Transform(trim)
  @IsString()
  @Length(1, 200)
  description?: string | null;

  @ApiPropertyOptional({
    example: true,
    description: 'Enabling a webhook the gateway disabled clears its failure state; events while it was disabled are not sent (replay them).',
  })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class RotateWebhookSecretRequest {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: 604800,
    default: 86400,
    example: 86400,
    description: 'For how long deliveries are also signed with the old secret, in seconds.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(604_800)
  overlapSeconds?: number;
}

export class ReplayWebhookRequest {
  @ApiProperty({ type: 'string', format: 'date-time', example: '2025-06-29T10:00:00.000Z', description: 'Events committed at or after this time.' })
  @IsISO8601({ strict: true })
  from: string;

  @ApiProperty({ type: 'string', format: 'date-time', example: '2025-06-29T12:00:00.000Z', description: 'Events committed before this time.' })
  @IsISO8601({ strict: true })
  to: string;
}
