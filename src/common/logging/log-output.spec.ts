import { prettyTransport, serializeError } from './log-output';

describe('log output', () => {
  it('drops the SQL parameters of a failed query from a logged error', () => {
    const logged = serializeError({ type: 'QueryFailedError', message: 'duplicate key', query: 'INSERT ...', parameters: ['s3cret'] });
    expect(logged).toEqual({ type: 'QueryFailedError', message: 'duplicate key', query: 'INSERT ...' });
    expect(serializeError({ type: 'Error', message: 'x' })).toEqual({ type: 'Error', message: 'x' });
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
