import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, Length } from 'class-validator';
import { CAPABILITIES } from '../../../common/capabilities';
import type { Capability } from '../../../common/capabilities';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreateApiKeyRequest {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100, example: 'crm-sync', description: 'A name for people, to tell keys apart.' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: [...CAPABILITIES] },
    minItems: 1,
    example: ['read', 'send'],
    description: 'What the key may do. Only capabilities the caller holds itself can be given.',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(CAPABILITIES.length * 4)
  @IsIn(CAPABILITIES, { each: true, message: `each capability must be one of ${CAPABILITIES.join(', ')}` })
  capabilities: Capability[];
}
