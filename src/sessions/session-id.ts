import { ulid } from 'ulid';
import { AppError } from '../common/errors/app-error';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export function newSessionId(): string {
  return ulid();
}

/** ULIDs are case-insensitive; the canonical form is upper case. Returns undefined when malformed. */
export function normalizeSessionId(raw: string): string | undefined {
  const upper = raw.toUpperCase();
  return ULID.test(upper) ? upper : undefined;
}

/**
 * The error of the ownership rule (the one SessionsService.requireOwnedSessionId throws), the same
 * for a malformed, unknown or foreign session id, so that a caller can never learn whether another
 * org's session exists.
 */
export function sessionNotFound(): AppError {
  return AppError.notFound('session');
}
