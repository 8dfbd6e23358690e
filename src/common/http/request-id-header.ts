/** The header that carries a request's id, both ways (src/http/request-id.ts picks the value). */
export const REQUEST_ID_HEADER = 'X-Request-Id';
