import type { FastifyReply, FastifyRequest } from 'fastify';
import { prettyTransport, requestLogFields, requestLogLevel, serializeError } from './request-log';

const request = (extra: Partial<FastifyRequest> = {}) =>
  ({ id: 'r1', method: 'GET', url: '/api/v1/sessions/S/chats?cursor=abc&limit=5', ip: '203.0.113.7', is404: false, user: null, routeOptions: { url: '/api/v1/sessions/:session/chats' }, headers: { authorization: 'Bearer wgk_x' }, ...extra }) as unknown as FastifyRequest;
const reply = (statusCode: number) => ({ statusCode, elapsedTime: 1.23456 }) as unknown as FastifyReply;

describe('request log', () => {
  it('describes the request without headers or query string, with route, status, duration and caller', () => {
    const fields = requestLogFields(request({ user: { kind: 'api_key', orgId: 'o1', keyId: 'K1', capabilities: new Set() } }), reply(200), '/api/v1/sessions/S/chats');
    expect(fields).not.toContain('wgk_');
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
      request({ id: hostile, user: { kind: 'user', orgId: 'o1', subject: hostile, capabilities: new Set() } }),
      reply(200),
      `/x/${hostile}`,
    );
    const parsed = JSON.parse(`{${fields}}`);
    expect(parsed.req).toMatchObject({ id: hostile, path: `/x/${hostile}` });
    expect(parsed.subject).toBe(hostile);
    // One log line per request: no raw line break or NUL gets through.
    expect(fields).not.toMatch(/[\n\u0000]/);
  });

  it('writes null for a client address the socket no longer has, and no status or duration for an aborted request', () => {
    const parsed = JSON.parse(`{${requestLogFields(request({ ip: undefined as unknown as string }), undefined, '/p')}}`);
    expect(parsed.req.ip).toBeNull();
    expect(parsed).not.toHaveProperty('res');
    expect(parsed).not.toHaveProperty('durationMs');
  });

  it('names no route for a request that matched none, and no caller before authentication', () => {
    const line = JSON.parse(`{${requestLogFields(request({ is404: true }), reply(404), '/nope')}}`);
    expect(line).not.toHaveProperty('route');
    expect(line).not.toHaveProperty('orgId');
  });

  it('drops the SQL parameters of a failed query from a logged error', () => {
    const logged = serializeError({ type: 'QueryFailedError', message: 'duplicate key', query: 'INSERT ...', parameters: ['s3cret'] });
    expect(logged).toEqual({ type: 'QueryFailedError', message: 'duplicate key', query: 'INSERT ...' });
    expect(serializeError({ type: 'Error', message: 'x' })).toEqual({ type: 'Error', message: 'x' });
  });

  it('keeps successful probes and scrapes quiet, and logs client and server errors', () => {
    expect(requestLogLevel('/healthz', 200)).toBe('silent');
    expect(requestLogLevel('/metrics', 200)).toBe('silent');
    expect(requestLogLevel('/readyz', 503)).toBe('warn');
    expect(requestLogLevel('/api/v1/x', 200)).toBe('info');
    expect(requestLogLevel('/api/v1/x', 429)).toBe('warn');
    expect(requestLogLevel('/api/v1/x', 503)).toBe('error');
  });

  it('uses pino-pretty when wanted and installed, and falls back to JSON when it is not (a production image)', () => {
    expect(prettyTransport(false)).toBeUndefined();
    expect(prettyTransport(true)).toEqual({ target: 'pino-pretty', options: { singleLine: true } });
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const missing = () => {
        throw Object.assign(new Error("Cannot find module 'pino-pretty'"), { code: 'MODULE_NOT_FOUND' });
      };
      expect(prettyTransport(true, missing)).toBeUndefined();
      expect(write).toHaveBeenCalledWith(expect.stringContaining('logging JSON'));
    } finally {
      write.mockRestore();
    }
  });
});
