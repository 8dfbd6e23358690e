import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** A session's send pacing (docs/sending.md, "Pacing"), as stored in `sessions.send_pacing` and shown. */
export class SendPacing {
  @ApiProperty({ minimum: 1, maximum: 6000, example: 20, description: 'Messages a minute the session sends at most once its burst is spent.' })
  ratePerMinute: number;

  @ApiProperty({ minimum: 1, maximum: 1000, example: 5, description: 'Messages it may send back to back before the rate applies.' })
  burst: number;

  @ApiProperty({ minimum: 0, maximum: 600000, example: 2000, description: 'Up to this many ms of random delay added after each message.' })
  jitterMs: number;
}

/** A change to a session's send pacing: what is left out keeps its current value (or the default). */
export class SendPacingChange {
  @ApiPropertyOptional({ minimum: 1, maximum: 6000, example: 10 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(6000)
  ratePerMinute?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, example: 3 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  burst?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 600000, example: 5000 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(600000)
  jitterMs?: number;
}
