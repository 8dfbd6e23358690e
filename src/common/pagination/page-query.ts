import { Injectable, PipeTransform } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { AppError } from '../errors/app-error';
import { invalidCursor } from './cursor-codec';

/**
 * A page of a keyset-paginated listing, from the request to the read:
 * - the caller asks with `limit` and `cursor` (PageQuery, parsed by PageQueryPipe by the rules
 *   below, documented per listing with ApiPageLimit and ApiPageCursor);
 * - the repository reads `rowsToRead(limit)` rows, one more than the page, and cuts them with
 *   `pageOf`, so the page knows whether another follows without a count query;
 * - the service turns the page's last row into `nextCursor` (CursorCodec) when `hasMore`.
 */

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 200;
const INTEGER = /^[+-]?\d+$/;

/**
 * The contract's `limit` rule: missing, empty or 0 means 50; any other integer is clamped to
 * 1..200 (a 30-digit number means 200); anything that is not an integer is 400.
 */
export function resolvePageLimit(raw: unknown): number {
  if (raw === undefined || raw === '') return DEFAULT_PAGE_LIMIT;
  if (typeof raw !== 'string' || !INTEGER.test(raw)) {
    throw AppError.invalidArgument('limit must be an integer', { parameter: 'limit' });
  }
  const value = BigInt(raw);
  if (value === 0n) return DEFAULT_PAGE_LIMIT;
  if (value < 1n) return 1;
  if (value > BigInt(MAX_PAGE_LIMIT)) return MAX_PAGE_LIMIT;
  return Number(value);
}

/** Missing or empty means "first page"; a repeated parameter or a non-string is a bad cursor. */
export function resolveCursorParameter(raw: unknown): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string') throw invalidCursor();
  return raw;
}

/**
 * The `limit` and `cursor` query parameters shared by every keyset-paginated listing. A listing
 * subclasses it and decorates the two properties with ApiPageLimit and ApiPageCursor, so its
 * parameters name what it lists.
 */
export class PageQuery {
  limit: number;
  cursor?: string;
}

/** Turns the raw query string values into a PageQuery, or a 400 naming the bad parameter. */
@Injectable()
export class PageQueryPipe implements PipeTransform<Record<string, unknown>, PageQuery> {
  transform(raw: Record<string, unknown>): PageQuery {
    return { limit: resolvePageLimit(raw?.limit), cursor: resolveCursorParameter(raw?.cursor) };
  }
}

/** OpenAPI wording of `limit` for a listing of `noun`. */
export const ApiPageLimit = (noun: string) =>
  ApiPropertyOptional({
    type: 'integer',
    format: 'int64',
    description: `Maximum number of ${noun} to return on one page. Clamped to the range 1–${MAX_PAGE_LIMIT}; a missing or zero value defaults to ${DEFAULT_PAGE_LIMIT}.`,
  });

/** OpenAPI wording of `cursor`, the same for every listing. */
export const ApiPageCursor = () =>
  ApiPropertyOptional({
    type: 'string',
    description:
      'Opaque pagination cursor. Pass the nextCursor value from the previous response to fetch the next page; treat it as a token and do not parse it. Omit it to get the first page.',
  });

/** The rows of one page, and whether more follow. */
export interface Page<T> {
  rows: T[];
  hasMore: boolean;
}

/** How many rows a repository reads for a page of `limit`: one more, which tells whether another page follows. */
export function rowsToRead(limit: number): number {
  return limit + 1;
}

/** Cuts the `rowsToRead(limit)` rows a repository read into the page and whether more follow. */
export function pageOf<T>(rows: T[], limit: number): Page<T> {
  return rows.length > limit ? { rows: rows.slice(0, limit), hasMore: true } : { rows, hasMore: false };
}
