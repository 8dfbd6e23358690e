import { ApiProperty } from '@nestjs/swagger';
import { MessageResponse, QUEUE_SCHEMA, SendQueue } from './message.response';

export class SendMessageResponse extends MessageResponse {
  @ApiProperty({
    ...QUEUE_SCHEMA,
    nullable: false,
    example: { position: 0, expectedSendAt: 1719662400000 },
    description: "Where the message stood in the session's send queue when it was accepted.",
  } as never)
  declare queue: SendQueue;
}
