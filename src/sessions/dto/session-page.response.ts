import { ApiProperty } from '@nestjs/swagger';
import { SessionResponse } from './session.response';

export class SessionPageResponse {
  @ApiProperty({ type: [SessionResponse] })
  data: SessionResponse[];

  @ApiProperty({
    type: 'string',
    nullable: true,
    example: null,
    description: 'Send it back as `cursor` to fetch the next page; null when this page is the last one.',
  })
  nextCursor: string | null;
}
