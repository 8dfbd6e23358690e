import { ApiProperty } from '@nestjs/swagger';

/** The `nextCursor` of every keyset-paginated listing, documented once for all of them. */
export function ApiNextCursor(): PropertyDecorator {
  return ApiProperty({
    type: 'string',
    nullable: true,
    example: null,
    description: 'Send it back as `cursor` to fetch the next page; null when this page is the last one.',
  });
}
