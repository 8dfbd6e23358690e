import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, Length, ValidateIf } from 'class-validator';
import { IsSessionMetadata, MAX_METADATA_BYTES, METADATA_EXAMPLE } from './session-metadata';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreateSessionRequest {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'Support line', description: 'A name for people; leading and trailing spaces are dropped.' })
  @Transform(trim)
  @IsString()
  @Length(1, 100)
  name: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: METADATA_EXAMPLE,
    description: `Free-form JSON object kept with the session (at most ${MAX_METADATA_BYTES} bytes). Defaults to {}.`,
  })
  // Absent is fine; null is not an object.
  @ValidateIf((request: { metadata?: unknown }) => request.metadata !== undefined)
  @IsSessionMetadata()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({
    default: true,
    example: true,
    description: 'Start connecting right away (default). With false the session is created `stopped`; start it later.',
  })
  @IsOptional()
  @IsBoolean()
  start?: boolean;
}
