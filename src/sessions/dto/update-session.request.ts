import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsObject, IsOptional, IsString, Length, ValidateIf, ValidateNested } from 'class-validator';
import { SendPacingChange } from './send-pacing';
import { IsSessionMetadata, MAX_METADATA_BYTES, METADATA_EXAMPLE } from './session-metadata';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** Give at least one of the three. */
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

  // Inline, not a $ref: a nullable $ref does not validate as null.
  @ApiPropertyOptional({
    type: 'object',
    nullable: true,
    properties: {
      ratePerMinute: { type: 'integer', minimum: 1, maximum: 6000, example: 10 },
      burst: { type: 'integer', minimum: 1, maximum: 1000, example: 3 },
      jitterMs: { type: 'integer', minimum: 0, maximum: 600000, example: 5000 },
    },
    example: { ratePerMinute: 10, burst: 3, jitterMs: 5000 },
    description:
      "The session's send pacing (docs/sending.md): the fields given replace the current ones (or the configured defaults), the others are kept; null returns the session to the defaults (SEND_RATE_PER_MINUTE, SEND_BURST, SEND_JITTER_MS). Requires the `manage` capability, as the rest of this route.",
  })
  @ValidateIf((request: { sendPacing?: unknown }) => request.sendPacing !== null && request.sendPacing !== undefined)
  @IsObject()
  @ValidateNested()
  @Type(() => SendPacingChange)
  sendPacing?: SendPacingChange | null;
}
