import type { IncomingMessage, ServerResponse } from 'node:http';
import { prettyTransport, requestLogLevel, requestLogProps, serializeError, serializeRequest } from './request-log';

const req = (url: string, extra: Record<string, unknown> = {}) => ({ url, ...extra }) as unknown as IncomingMessage;
const res = (statusCode: number, headersSent = true) => ({ statusCode, headersSent }) as unknown as ServerResponse;

describe('request log', () => {
  it('serializes the request without headers or query string', () => {
    const raw = { originalUrl: '/api/v1/sessions/S/chats?cursor=abc&limit=5', ip: '203.0.113.7', headers: { authorization: 'Bearer wgk_x' } };
    const line = serializeRequest({ id: 'r1', method: 'GET', url: raw.originalUrl, raw: raw as never });
    expect(line).toEqual({ id: 'r1', method: 'GET', path: '/api/v1/sessions/S/chats', ip: '203.0.113.7' });
    expect(JSON.stringify(line)).not.toContain('wgk_');
  });

  it('adds route and caller once the response is on its way, never before', () => {
    const request = req('/x', { route: { path: '/api/v1/sessions/:session/chats' }, user: { orgId: 'o1', keyId: 'K1', kind: 'api_key' } });
    expect(requestLogProps(request, res(200, false))).toEqual({});
    expect(requestLogProps(request, res(200))).toEqual({ route: '/api/v1/sessions/:session/chats', orgId: 'o1', keyId: 'K1' });
    expect(requestLogProps(req('/x', { route: { path: '/{*path}' } }), res(404))).toEqual({});
  });

  it('drops the SQL parameters of a failed query from a logged error', () => {
    const logged = serializeError({ type: 'QueryFailedError', message: 'duplicate key', query: 'INSERT ...', parameters: ['s3cret'] });
    expect(logged).toEqual({ type: 'QueryFailedError', message: 'duplicate key', query: 'INSERT ...' });
    expect(serializeError({ type: 'Error', message: 'x' })).toEqual({ type: 'Error', message: 'x' });
  });

  it('keeps successful probes and scrapes quiet, and logs client and server errors', () => {
    expect(requestLogLevel(req('/healthz'), res(200))).toBe('silent');
    expect(requestLogLevel(req('/metrics'), res(200))).toBe('silent');
    expect(requestLogLevel(req('/readyz'), res(503))).toBe('warn');
    expect(requestLogLevel(req('/api/v1/x'), res(200))).toBe('info');
    expect(requestLogLevel(req('/api/v1/x'), res(429))).toBe('warn');
    expect(requestLogLevel(req('/api/v1/x'), res(503))).toBe('error');
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
