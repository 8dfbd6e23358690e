import { requestLogFields, requestLogLevel } from './request-log';
import type { RequestOutcome } from './request-observer';

const outcome = (extra: Partial<RequestOutcome> = {}): RequestOutcome => ({
  id: 'r1',
  method: 'GET',
  path: '/api/v1/sessions/S/chats',
  ip: '203.0.113.7',
  route: '/api/v1/sessions/:session/chats',
  user: null,
  statusCode: 200,
  durationMs: 1.23456,
  ...extra,
});

describe('request log', () => {
  it('describes the request without headers or query string, with route, status, duration and caller', () => {
    const fields = requestLogFields(outcome({ user: { kind: 'api_key', orgId: 'o1', keyId: 'K1', capabilities: new Set() } }));
    expect(JSON.parse(`{${fields}}`)).toEqual({
      req: { id: 'r1', method: 'GET', path: '/api/v1/sessions/S/chats', ip: '203.0.113.7' },
      route: '/api/v1/sessions/:session/chats',
      res: { statusCode: 200 },
      durationMs: 1.235,
      orgId: 'o1',
      keyId: 'K1',
    });
  });

  it('escapes whatever the client controls (path, request id, login subject) into valid JSON', () => {
    const hostile = 'a"b\\c\n\u0000\u2028é😀';
    const fields = requestLogFields(
      outcome({ id: hostile, path: `/x/${hostile}`, user: { kind: 'user', orgId: 'o1', subject: hostile, capabilities: new Set() } }),
    );
    const parsed = JSON.parse(`{${fields}}`);
    expect(parsed.req).toMatchObject({ id: hostile, path: `/x/${hostile}` });
    expect(parsed.subject).toBe(hostile);
    // One log line per request: no raw line break or NUL gets through.
    expect(fields).not.toContain('\n');
    expect(fields).not.toContain('\u0000');
  });

  it('writes null for a client address the socket no longer has, and no status or duration for an aborted request', () => {
    const parsed = JSON.parse(`{${requestLogFields(outcome({ ip: undefined, statusCode: undefined, durationMs: undefined }))}}`);
    expect(parsed.req.ip).toBeNull();
    expect(parsed).not.toHaveProperty('res');
    expect(parsed).not.toHaveProperty('durationMs');
  });

  it('names no route for a request that matched none, and no caller before authentication', () => {
    const line = JSON.parse(`{${requestLogFields(outcome({ route: undefined, statusCode: 404 }))}}`);
    expect(line).not.toHaveProperty('route');
    expect(line).not.toHaveProperty('orgId');
  });

  it('keeps successful probes and scrapes quiet, and logs client and server errors', () => {
    expect(requestLogLevel('/healthz', 200)).toBe('silent');
    expect(requestLogLevel('/metrics', 200)).toBe('silent');
    expect(requestLogLevel('/readyz', 503)).toBe('warn');
    expect(requestLogLevel('/api/v1/x', 200)).toBe('info');
    expect(requestLogLevel('/api/v1/x', 429)).toBe('warn');
    expect(requestLogLevel('/api/v1/x', 503)).toBe('error');
  });
});
