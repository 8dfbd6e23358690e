import { ulid } from 'ulid';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export function newSessionId(): string {
  return ulid();
}

/** ULIDs are case-insensitive; the canonical form is upper case. Returns undefined when malformed. */
export function normalizeSessionId(raw: string): string | undefined {
  const upper = raw.toUpperCase();
  return ULID.test(upper) ? upper : undefined;
}
