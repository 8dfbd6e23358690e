import { ApiProperty } from '@nestjs/swagger';
import { ApiNextCursor } from '../../common/pagination/next-cursor.property';
import { SessionResponse } from './session.response';

export class SessionPageResponse {
  @ApiProperty({ type: [SessionResponse] })
  data: SessionResponse[];

  @ApiNextCursor()
  nextCursor: string | null;
}
