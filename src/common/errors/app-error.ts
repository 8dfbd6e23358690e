import { ERROR_STATUS, ErrorCode } from './error-code';

export type ErrorDetails = Record<string, unknown>;

/**
 * An error the client is meant to see: its code picks the HTTP status, its message and details
 * go into the envelope as they are. Anything that is not an AppError is reported as `internal`.
 */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_STATUS[code];
  }

  /** The response body: `{ "error": { code, message, details } }`. */
  toEnvelope(): { error: { code: ErrorCode; message: string; details: ErrorDetails } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }

  static invalidArgument(message: string, details: ErrorDetails = {}): AppError {
    return new AppError('invalid_argument', message, details);
  }

  static unauthenticated(): AppError {
    return new AppError('unauthenticated', 'missing or invalid credentials', {}, { 'WWW-Authenticate': 'Bearer' });
  }

  static forbidden(capability: string): AppError {
    return new AppError('forbidden', `the caller lacks the ${capability} capability`, { capability });
  }

  static notFound(what: string): AppError {
    return new AppError('not_found', `${what} not found`);
  }
}
