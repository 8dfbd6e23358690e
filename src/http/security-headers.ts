import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { HelmetOptions } from 'helmet';

/** Where Swagger UI lives: its HTML page and the scripts and styles it loads. */
export const SWAGGER_UI_PATH = '/docs';

/**
 * The headers of every response that is not Swagger UI: JSON from the API, errors, probes, metrics.
 * The set OWASP's REST Security Cheat Sheet gives for an API: nothing may frame, run or sniff the
 * response, nothing may keep a tenant's data in a cache, and browsers stay on HTTPS. The headers
 * helmet adds for HTML pages (cross-origin isolation, DNS prefetch, download options, the XSS
 * auditor...) do nothing for JSON, and every response and every client would pay for their bytes.
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
});

/**
 * Swagger UI's pages: helmet's headers for HTML. Its scripts and styles come from this origin only;
 * plain-http local development must not be told to upgrade them to https.
 */
export const SWAGGER_UI_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze(
  securityHeaders({ contentSecurityPolicy: { useDefaults: true, directives: { upgradeInsecureRequests: null } } }),
);

/** The security headers for a request target (path and query string). */
export function securityHeadersFor(url: string): Readonly<Record<string, string>> {
  return isSwaggerUiTarget(url) ? SWAGGER_UI_SECURITY_HEADERS : API_SECURITY_HEADERS;
}

const API_SECURITY_HEADER_ENTRIES = Object.freeze(Object.entries(API_SECURITY_HEADERS));
const SWAGGER_UI_SECURITY_HEADER_ENTRIES = Object.freeze(Object.entries(SWAGGER_UI_SECURITY_HEADERS));

/** securityHeadersFor as `[name, value]` pairs, for a platform that sets headers one at a time. */
export function securityHeaderEntriesFor(url: string): readonly (readonly [string, string])[] {
  return isSwaggerUiTarget(url) ? SWAGGER_UI_SECURITY_HEADER_ENTRIES : API_SECURITY_HEADER_ENTRIES;
}

function isSwaggerUiTarget(url: string): boolean {
  if (!url.startsWith(SWAGGER_UI_PATH)) return false;
  const next = url.charCodeAt(SWAGGER_UI_PATH.length);
  // Followed by nothing, "/" or "?": /docs, /docs/..., /docs?... (not /docs-json, which is JSON).
  return Number.isNaN(next) || next === 0x2f || next === 0x3f;
}

/**
 * The security headers helmet sets with `options`, worked out once at start-up: helmet is the
 * authority on their values, and the hot path then only copies a fixed set of headers.
 */
export function securityHeaders(options: Readonly<HelmetOptions>): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    failure = error;
  });
  if (failure) throw failure as Error;
  return headers;
}
