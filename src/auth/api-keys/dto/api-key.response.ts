import { ApiProperty } from '@nestjs/swagger';
import { ApiNextCursor } from '../../../common/pagination/next-cursor.property';
import { CAPABILITIES } from '../../../common/capabilities';
import type { Capability } from '../../../common/capabilities';
import type { ApiKey } from '../api-key.entity';

export class ApiKeyResponse {
  @ApiProperty({ example: '01JA2B3C4D5E6F7G8H9J0KMNPQ', description: 'The key id (a ULID); also the middle part of the key itself.' })
  id: string;

  @ApiProperty({ type: 'string', nullable: true, example: 'crm-sync' })
  name: string | null;

  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...CAPABILITIES] }, example: ['read', 'send'] })
  capabilities: Capability[];

  @ApiProperty({ type: 'string', format: 'date-time', example: '2025-06-29T12:00:00.000Z' })
  createdAt: string;

  @ApiProperty({
    type: 'string',
    format: 'date-time',
    nullable: true,
    example: '2025-06-30T08:15:00.000Z',
    description: 'Last use, to the minute; null when never used.',
  })
  lastUsedAt: string | null;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true, example: null, description: 'When it was revoked; null while it works.' })
  revokedAt: string | null;

  static fromEntity(key: Pick<ApiKey, 'id' | 'name' | 'capabilities' | 'createdAt' | 'lastUsedAt' | 'revokedAt'>): ApiKeyResponse {
    return {
      id: key.id,
      name: key.name,
      capabilities: key.capabilities,
      createdAt: key.createdAt.toISOString(),
      lastUsedAt: key.lastUsedAt ? key.lastUsedAt.toISOString() : null,
      revokedAt: key.revokedAt ? key.revokedAt.toISOString() : null,
    };
  }
}

export class CreatedApiKeyResponse extends ApiKeyResponse {
  @ApiProperty({
    example: 'wgk_01JA2B3C4D5E6F7G8H9J0KMNPQ_9uJxQ2m3Yb7cR1tV5wZ8aD4fG6hK0nP2sU4xW7yB1eE',
    description: 'The key itself, to send as `Authorization: Bearer <key>`. Shown this once: the gateway keeps only a hash of it.',
  })
  key: string;
}

export class ApiKeyPageResponse {
  @ApiProperty({ type: [ApiKeyResponse] })
  data: ApiKeyResponse[];

  @ApiNextCursor()
  nextCursor: string | null;
}

export const API_KEY_EXAMPLE: ApiKeyResponse = {
  id: '01JA2B3C4D5E6F7G8H9J0KMNPQ',
  name: 'crm-sync',
  capabilities: ['read', 'send'],
  createdAt: '2025-06-29T12:00:00.000Z',
  lastUsedAt: '2025-06-30T08:15:00.000Z',
  revokedAt: null,
};
