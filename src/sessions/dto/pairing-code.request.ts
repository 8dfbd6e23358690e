import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';

export const E164_DIGITS = /^\+?[1-9]\d{6,14}$/;

export class PairingCodeRequest {
  @ApiProperty({
    example: '6281234567890',
    pattern: E164_DIGITS.source,
    description: 'The phone number to link, in E.164 digits: country code and number, no spaces (a leading + is accepted).',
  })
  @IsString()
  @Matches(E164_DIGITS, { message: 'phoneNumber must be E.164 digits: country code and number, 7 to 15 digits' })
  phoneNumber: string;
}
