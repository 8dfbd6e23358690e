import pino from 'pino';
import { prettyTransport, serializeError } from './log-output';

export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/** Bytes the asynchronous destination gathers before one write(2). */
const ASYNC_BUFFER_BYTES = 4096;
/** How long a line may wait in that buffer when traffic is too light to fill it. */
const ASYNC_FLUSH_INTERVAL_MS = 1000;

/**
 * The process's one pino logger: the request log and Nest's application log both write through it.
 * Secret-bearing headers are redacted should anything ever log them.
 *
 * LOG_ASYNC: JSON lines are buffered and written in the background (pino's asynchronous
 * destination: 4 KiB at a time, at least once a second, and at exit) instead of one synchronous
 * write(2) per line. Pretty output already goes through a worker thread (its transport).
 */
export function createRootLogger(log: { level: string; pretty: boolean; async: boolean }, fd = 1): pino.Logger {
  const transport = prettyTransport(log.pretty);
  const options: pino.LoggerOptions = {
    level: log.level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'res.headers["set-cookie"]', 'headers.authorization'],
      censor: '[redacted]',
    },
    serializers: { err: (error: Error) => serializeError(pino.stdSerializers.err(error)) },
  };
  // Pretty (a terminal): formatted in this thread and written synchronously, not in a transport's
  // worker, so lines appear in the order they were logged, before anything printed after them
  // (the start banner comes last).
  if (transport) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- pino-pretty is a devDependency, loaded only when prettyTransport found it installed
    const pretty = require(transport.target) as (options: Record<string, unknown>) => pino.DestinationStream;
    return pino(options, pretty({ ...transport.options, destination: fd, sync: true }));
  }
  const destination = log.async
    ? pino.destination({ dest: fd, sync: false, minLength: ASYNC_BUFFER_BYTES, periodicFlush: ASYNC_FLUSH_INTERVAL_MS })
    : pino.destination({ dest: fd, sync: true });
  return pino(options, destination);
}
