/**
 * PostgreSQL refusing a character: 22021 (a NUL in text: "invalid byte sequence"), 22P05 (a NUL
 * escape read from json: "unsupported Unicode escape sequence"), and 22P02 when its detail is
 * about a surrogate (half a surrogate pair in json; other 22P02s are not about characters and stay
 * internal). Request bodies are checked for these before they reach the database
 * (ValidatedBodyPipe); this is the net under any other path, so that a client's bad characters
 * are its 400, never a 500.
 */
const UNSTORABLE_TEXT_CODES = new Set(['22021', '22P05']);

export function isUnstorableTextError(error: unknown): boolean {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const { code, detail } = current as { code?: unknown; detail?: unknown };
    if (typeof code === 'string' && UNSTORABLE_TEXT_CODES.has(code)) return true;
    if (code === '22P02' && typeof detail === 'string' && /surrogate/i.test(detail)) return true;
    current = (current as { driverError?: unknown }).driverError ?? (current as { cause?: unknown }).cause;
  }
  return false;
}
