import { ApiProperty } from '@nestjs/swagger';
import { ChatResponse } from './chat.response';

export class ChatPageResponse {
  @ApiProperty({ type: [ChatResponse] })
  data: ChatResponse[];

  @ApiProperty({
    type: 'string',
    nullable: true,
    example: null,
    description: 'Send it back as `cursor` to fetch the next page; null when this page is the last one.',
  })
  nextCursor: string | null;
}
