import { ApiPropertyOptional } from '@nestjs/swagger';

/**
 * OpenAPI wording of the `limit`/`cursor` parameters for a listing of `noun`. The rules are
 * PageQuery's (parse with PageQueryPipe); a listing subclasses PageQuery and decorates its two
 * properties with these, so its parameters name what it lists.
 */
export const ApiPageLimit = (noun: string) =>
  ApiPropertyOptional({
    type: 'integer',
    format: 'int64',
    description: `Maximum number of ${noun} to return on one page. Clamped to the range 1–200; a missing or zero value defaults to 50.`,
  });

export const ApiPageCursor = () =>
  ApiPropertyOptional({
    type: 'string',
    description:
      'Opaque pagination cursor. Pass the nextCursor value from the previous response to fetch the next page; treat it as a token and do not parse it. Omit it to get the first page.',
  });
