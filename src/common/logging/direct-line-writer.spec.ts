import { Writable } from 'node:stream';
import pino from 'pino';
import { directLineWriter, jsonNumber, jsonString } from './direct-line-writer';

/** A pino logger writing into an array of lines, as the root logger does (same options shape). */
function capturingLogger(options: pino.LoggerOptions = {}): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { logger: pino({ level: 'info', ...options }, destination), lines };
}

describe('directLineWriter', () => {
  it('writes exactly the line pino itself writes for the same fields and message', async () => {
    const { logger, lines } = capturingLogger({ redact: { paths: ['req.headers.authorization'], censor: '[redacted]' } });
    const fields = { req: { id: 'r"1', method: 'GET', path: '/x\ny' }, res: { statusCode: 200 }, durationMs: 1.5, orgId: 'o1' };
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_764_000_000_123);
    try {
      logger.warn(fields, 'request completed');
      directLineWriter(logger)('warn', JSON.stringify(fields).slice(1, -1), 'request completed');
    } finally {
      now.mockRestore();
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(lines[0]);
    expect(JSON.parse(lines[1])).toMatchObject({ level: 40, time: 1_764_000_000_123, pid: process.pid, msg: 'request completed', orgId: 'o1' });
  });

  it('carries the bindings of the logger it was made from', async () => {
    const { logger, lines } = capturingLogger({ base: { service: 'gateway' } });
    directLineWriter(logger)('info', '"a":1', 'm');
    await new Promise((resolve) => setImmediate(resolve));
    expect(JSON.parse(lines[0])).toEqual({ level: 30, time: expect.any(Number), service: 'gateway', a: 1, msg: 'm' });
  });

  it('turns values JSON cannot hold into null', () => {
    expect(jsonString(undefined)).toBe('null');
    expect(jsonString(null)).toBe('null');
    expect(jsonString('a"b')).toBe('"a\\"b"');
    expect(jsonNumber(Number.NaN)).toBe('null');
    expect(jsonNumber(Number.POSITIVE_INFINITY)).toBe('null');
    expect(jsonNumber(1.25)).toBe('1.25');
  });
});
