import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, Length, ValidateIf } from 'class-validator';
import { IsSessionMetadata, MAX_METADATA_BYTES, METADATA_EXAMPLE } from './session-metadata';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** Give at least one of the two. */
export class UpdateSessionRequest {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100, example: 'Sales line', description: 'The new name.' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: METADATA_EXAMPLE,
    description: `Replaces the whole metadata object (at most ${MAX_METADATA_BYTES} bytes); send {} to clear it.`,
  })
  // Absent is fine; null is not an object.
  @ValidateIf((request: { metadata?: unknown }) => request.metadata !== undefined)
  @IsSessionMetadata()
  metadata?: Record<string, unknown>;
}
