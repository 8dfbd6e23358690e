import { AppError } from '../errors/app-error';

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
  if (typeof raw !== 'string') throw AppError.invalidArgument('cursor is not valid for this listing', { parameter: 'cursor' });
  return raw;
}
