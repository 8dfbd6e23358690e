import type { Params } from 'nestjs-pino';
import pino from 'pino';

const ASYNC_BUFFER_BYTES = 4096;

/**
 * LOG_ASYNC: JSON lines are buffered and written to stdout in the background (pino's asynchronous
 * destination, flushed at exit) instead of one synchronous write(2) per line. Pretty output already
 * goes through a worker thread (its transport), so it is left as it is.
 */
export function withLogDestination(log: { async: boolean; pretty: boolean }, params: Params): Params {
  const options = params.pinoHttp;
  if (!log.async || log.pretty || options === undefined || Array.isArray(options) || 'write' in options) return params;
  return { ...params, pinoHttp: [options, pino.destination({ dest: 1, sync: false, minLength: ASYNC_BUFFER_BYTES })] };
}
