import { ApiProperty } from '@nestjs/swagger';

export class PairingCodeResponse {
  @ApiProperty({
    example: 'ABCD1234',
    minLength: 8,
    maxLength: 8,
    description: 'Type it on the phone: WhatsApp > Linked devices > Link a device > Link with phone number instead.',
  })
  pairingCode: string;
}
