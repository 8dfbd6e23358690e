import { ApiPropertyOptional } from '@nestjs/swagger';
import { Injectable, PipeTransform } from '@nestjs/common';
import { resolveCursorParameter, resolvePageLimit } from './page-limit';

/** The `limit` and `cursor` query parameters shared by every keyset-paginated listing. */
export class PageQuery {
  @ApiPropertyOptional({
    type: 'integer',
    format: 'int64',
    description: 'Maximum number of chats to return on one page. Clamped to the range 1–200; a missing or zero value defaults to 50.',
  })
  limit: number;

  @ApiPropertyOptional({
    type: 'string',
    description:
      'Opaque pagination cursor. Pass the nextCursor value from the previous response to fetch the next page; treat it as a token and do not parse it. Omit it to get the first page.',
  })
  cursor?: string;
}

/** Turns the raw query string values into a PageQuery, or a 400 naming the bad parameter. */
@Injectable()
export class PageQueryPipe implements PipeTransform<Record<string, unknown>, PageQuery> {
  transform(raw: Record<string, unknown>): PageQuery {
    return { limit: resolvePageLimit(raw?.limit), cursor: resolveCursorParameter(raw?.cursor) };
  }
}
