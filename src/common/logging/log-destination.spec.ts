import type { Params } from 'nestjs-pino';
import { withLogDestination } from './log-destination';

describe('withLogDestination', () => {
  const params: Params = { pinoHttp: { level: 'info' } };

  it('leaves the synchronous default alone', () => {
    expect(withLogDestination({ async: false, pretty: false }, params)).toBe(params);
  });

  it('leaves pretty output (already written by a worker thread) alone', () => {
    expect(withLogDestination({ async: true, pretty: true }, params)).toBe(params);
  });

  it('with LOG_ASYNC, gives pino-http the same options and an asynchronous destination', () => {
    const result = withLogDestination({ async: true, pretty: false }, params);
    expect(Array.isArray(result.pinoHttp)).toBe(true);
    const [options, destination] = result.pinoHttp as [unknown, { write: unknown; flushSync: unknown }];
    expect(options).toBe(params.pinoHttp);
    expect(typeof destination.write).toBe('function');
    expect(typeof destination.flushSync).toBe('function');
  });
});
