import { API_SECURITY_HEADERS, SWAGGER_UI_SECURITY_HEADERS, securityHeadersFor } from './security-headers';

describe('securityHeadersFor', () => {
  it("gives Swagger UI's page and assets helmet's HTML headers", () => {
    for (const url of ['/docs', '/docs/', '/docs?x=1', '/docs/swagger-ui-bundle.js', '/docs/index.html']) {
      expect(securityHeadersFor(url)).toBe(SWAGGER_UI_SECURITY_HEADERS);
    }
  });

  it("gives everything else the API's headers, the OpenAPI document and look-alike paths included", () => {
    for (const url of ['/api/v1/sessions/x/chats', '/docs-json', '/docsx', '/healthz', '/', '/api/docs']) {
      expect(securityHeadersFor(url)).toBe(API_SECURITY_HEADERS);
    }
  });

  it('keeps the API set small and the Swagger UI policy loadable over plain http', () => {
    expect(Object.keys(API_SECURITY_HEADERS).sort()).toEqual([
      'cache-control',
      'content-security-policy',
      'strict-transport-security',
      'x-content-type-options',
      'x-frame-options',
    ]);
    expect(SWAGGER_UI_SECURITY_HEADERS['content-security-policy']).toContain("script-src 'self'");
    expect(SWAGGER_UI_SECURITY_HEADERS['content-security-policy']).not.toContain('upgrade-insecure-requests');
  });
});
