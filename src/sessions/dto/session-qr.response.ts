import { ApiProperty } from '@nestjs/swagger';

export class SessionQrResponse {
  @ApiProperty({
    example: '2@Qm9ndXNSZWY=,dGhpc2lzbm90YXJlYWxrZXk=,aWRlbnRpdHk=,YWR2c2VjcmV0',
    description: 'The QR payload exactly as WhatsApp issued it; render it yourself or use `image`.',
  })
  qr: string;

  @ApiProperty({
    example: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA...',
    description: 'The same QR code as a PNG image in a data URL, ready for an <img src>.',
  })
  image: string;

  @ApiProperty({
    type: 'string',
    format: 'date-time',
    example: '2025-06-29T12:00:00.000Z',
    description: 'When WhatsApp issued this code. WhatsApp replaces it about every 20 seconds (60 for the first); fetch it again.',
  })
  issuedAt: string;
}
