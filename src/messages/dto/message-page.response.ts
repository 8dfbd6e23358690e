import { ApiProperty } from '@nestjs/swagger';
import { ApiNextCursor } from '../../common/pagination/next-cursor.property';
import { MessageResponse } from './message.response';

export class MessagePageResponse {
  @ApiProperty({ type: [MessageResponse] })
  data: MessageResponse[];

  @ApiNextCursor()
  nextCursor: string | null;
}
