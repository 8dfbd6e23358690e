import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath, type ResponseObject } from '@nestjs/swagger';
import { ERROR_STATUS, ErrorCode } from './error-code';
import { ErrorEnvelope } from './error-envelope';

const EXAMPLES: Record<ErrorCode, { description: string; message: string; details?: Record<string, unknown> }> = {
  invalid_argument: { description: 'A parameter is malformed.', message: 'limit must be an integer', details: { parameter: 'limit' } },
  unauthenticated: { description: 'No valid login JWT or API key.', message: 'missing or invalid credentials' },
  forbidden: { description: 'The caller lacks the required capability.', message: 'the caller lacks the read capability', details: { capability: 'read' } },
  not_found: { description: "The session does not exist or is not owned by the caller's organization.", message: 'session not found' },
  conflict: { description: 'The resource is not in a state that allows this.', message: 'conflict' },
  quota_exceeded: {
    description:
      'The organization has reached a quota: its number of sessions, or of running sessions (`details.quota`: `sessions`, `running_sessions`; `details.limit`).',
    message: 'the organization has reached its quota of 100 sessions',
    details: { quota: 'sessions', limit: 100 },
  },
  payload_too_large: { description: 'The request body is too large.', message: 'request body is too large' },
  unsupported_media_type: {
    description: "A sent file's content type is not one its kind takes (`details.type`, `details.mimetype`, `details.allowed`).",
    message: 'an image must be one of image/jpeg, image/png',
    details: { parameter: 'media', type: 'image', mimetype: 'image/gif', allowed: ['image/jpeg', 'image/png'] },
  },
  rate_limited: {
    description:
      'Too many requests from this caller (API key or login user) or its organization in the current window, or too many failed authentications from this client address (`details.policy`: `caller`, `org`, `auth_failures`); retry after `Retry-After` seconds.',
    message: 'rate limit exceeded',
    details: { policy: 'caller', limit: 1200, retryAfterSeconds: 17 },
  },
  internal: { description: 'Unexpected failure.', message: 'internal error' },
  unavailable: { description: 'A dependency (e.g. the database) is unavailable.', message: 'the service is temporarily unavailable, retry later' },
};

interface HeaderDoc {
  description: string;
  required: true;
  schema: { type: 'string' | 'integer'; example: string | number };
}
const RETRY_AFTER: HeaderDoc = { description: 'Seconds to wait before retrying.', required: true, schema: { type: 'integer', example: 1 } };

/** Headers some codes always carry (see AppError and ErrorEnvelopeFilter), documented on their responses. */
const HEADERS: Partial<Record<ErrorCode, Record<string, HeaderDoc>>> = {
  unauthenticated: {
    'WWW-Authenticate': { description: 'The authentication scheme to use.', required: true, schema: { type: 'string', example: 'Bearer' } },
  },
  rate_limited: {
    'Retry-After': RETRY_AFTER,
    RateLimit: {
      description: 'What remains of each limit and seconds until it resets (IETF RateLimit header fields).',
      required: true,
      schema: { type: 'string', example: '"caller";r=0;t=17, "org";r=4788;t=17' },
    },
    'RateLimit-Policy': {
      description: 'The limits: quota and window in seconds, per caller and per organization.',
      required: true,
      schema: { type: 'string', example: '"caller";q=1200;w=60, "org";q=6000;w=60' },
    },
  },
  unavailable: { 'Retry-After': RETRY_AFTER },
};

/**
 * Errors any operation can give whatever it does: a request body that is malformed (not JSON, a
 * content type other than JSON) or too large, refused before the operation runs, on any route
 * with any method that carries one; an unexpected failure; the database being down.
 * `arrangeDocument` adds them to every operation of the document, so no controller lists them.
 */
export const ERRORS_OF_EVERY_OPERATION: readonly ErrorCode[] = ['invalid_argument', 'payload_too_large', 'internal', 'unavailable'];

/** Errors any authenticated operation can give: the caller's or its organization's rate limit (src/rate-limit/). */
export const ERRORS_OF_EVERY_AUTHENTICATED_OPERATION: readonly ErrorCode[] = ['rate_limited'];

/** The OpenAPI response object for an error code: the envelope schema, an example, its headers. */
export function errorResponse(code: ErrorCode): ResponseObject {
  return {
    description: `\`${code}\`: ${EXAMPLES[code].description}`,
    ...(HEADERS[code] && { headers: HEADERS[code] }),
    content: {
      'application/json': {
        schema: { $ref: getSchemaPath(ErrorEnvelope) },
        example: { error: { code, message: EXAMPLES[code].message, details: EXAMPLES[code].details ?? {} } },
      },
    },
  };
}

/** Documents the error responses an operation can give, each with the envelope schema and an example. */
export function ApiErrorResponses(...codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  return applyDecorators(ApiExtraModels(ErrorEnvelope), ...codes.map((code) => ApiResponse({ status: ERROR_STATUS[code], ...errorResponse(code) })));
}
