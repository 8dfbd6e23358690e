import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsLatitude, IsLongitude, IsNumber, IsOptional, IsString, Length, Matches, ValidateNested } from 'class-validator';

/** `to`: a chat id from List chats (digits), a JID, or an E.164 number with its leading +. */
export const SEND_TARGET = /^(\d{1,19}|\+[1-9]\d{6,14}|[0-9]{5,20}@s\.whatsapp\.net|[0-9]{5,30}(-[0-9]{5,15})?@g\.us)$/;
export const MAX_TEXT = 4096;

export class SendLocation {
  @ApiProperty({ example: -6.2, description: 'Latitude in degrees.' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsLatitude()
  latitude: number;

  @ApiProperty({ example: 106.816666, description: 'Longitude in degrees.' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsLongitude()
  longitude: number;

  @ApiPropertyOptional({ maxLength: 256, example: 'Monas', description: 'A name for the place.' })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  name?: string;

  @ApiPropertyOptional({ maxLength: 512, example: 'Gambir, Central Jakarta', description: 'Its address.' })
  @IsOptional()
  @IsString()
  @Length(1, 512)
  address?: string;
}

export class SendContact {
  @ApiProperty({ maxLength: 256, example: 'Alice', description: "The contact's name as the recipient sees it." })
  @IsString()
  @Length(1, 256)
  name: string;

  @ApiProperty({ example: '+6281234567890', description: "The contact's phone number, E.164 with its leading +." })
  @IsString()
  @Matches(/^\+[1-9]\d{6,14}$/, { message: 'contact.phone must be an E.164 number with its leading +, 7 to 15 digits' })
  phone: string;
}

export class SendMessageRequest {
  @ApiProperty({
    example: '+6281234567890',
    pattern: SEND_TARGET.source,
    description:
      'The recipient: a chat `id` that List chats returns (digits), a JID (`...@s.whatsapp.net`, or `...@g.us` for a group the session is in), or an E.164 number with its leading `+`.',
  })
  @IsString()
  @Matches(SEND_TARGET, { message: 'to must be a chat id, a JID (...@s.whatsapp.net or ...@g.us) or an E.164 number with its leading +' })
  to: string;

  @ApiPropertyOptional({
    maxLength: MAX_TEXT,
    example: 'See you at 8?',
    description: 'A text message (no link preview). Give exactly one of `text`, `location`, `contact`.',
  })
  @IsOptional()
  @IsString()
  @Length(1, MAX_TEXT)
  text?: string;

  @ApiPropertyOptional({
    type: [String],
    maxItems: 50,
    example: ['+6281234567891'],
    description: 'With `text`: who is mentioned, as JIDs or E.164 numbers (the text should carry `@<digits>` for each).',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(/^(\+[1-9]\d{6,14}|[0-9]{5,20}@s\.whatsapp\.net)$/, {
    each: true,
    message: 'each mention must be a JID (...@s.whatsapp.net) or an E.164 number with its leading +',
  })
  mentions?: string[];

  @ApiPropertyOptional({ type: SendLocation, description: 'A location message.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => SendLocation)
  location?: SendLocation;

  @ApiPropertyOptional({ type: SendContact, description: 'A contact card.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => SendContact)
  contact?: SendContact;

  @ApiPropertyOptional({ example: '918273', pattern: '^[1-9][0-9]{0,18}$', description: 'The `id` of a stored message of the same chat this one replies to.' })
  @IsOptional()
  @IsString()
  @Matches(/^[1-9]\d{0,18}$/, { message: 'replyTo must be a message id (digits)' })
  replyTo?: string;
}
