import { ApiProperty } from '@nestjs/swagger';
import { ERROR_CODES } from './error-code';
import type { ErrorCode } from './error-code';

export class ErrorBody {
  @ApiProperty({ enum: ERROR_CODES, example: 'not_found', description: 'Machine-readable error code.' })
  code: ErrorCode;

  @ApiProperty({ example: 'session not found', description: 'Human-readable description of the error.' })
  message: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: {},
    example: {},
    description: 'Structured context for the error; always an object, empty when there is nothing to add.',
  })
  details: Record<string, unknown>;
}

/** The shape of every non-2xx response of the API. */
export class ErrorEnvelope {
  @ApiProperty({ type: ErrorBody })
  error: ErrorBody;
}
