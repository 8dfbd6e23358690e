import { ApiProperty } from '@nestjs/swagger';
import { ApiNextCursor } from '../../common/pagination/next-cursor.property';
import { ChatResponse } from './chat.response';

export class ChatPageResponse {
  @ApiProperty({ type: [ChatResponse] })
  data: ChatResponse[];

  @ApiNextCursor()
  nextCursor: string | null;
}
