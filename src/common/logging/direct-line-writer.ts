import pino from 'pino';

/** Writes one log line whose fields the caller has already serialized (a JSON object's members, without braces). */
export type LineWriter = (level: pino.Level, fieldsJson: string, msg: string) => void;

/**
 * The line `logger[level](fields, msg)` would write (same destination, level number, time, pid and
 * hostname, key order), for a caller that serializes its own fields. The request log writes one
 * line per request: building it by concatenation skips pino's walk over an arbitrary object and its
 * redaction pass, which guard objects we do not choose, not a line whose every field we pick.
 * Only for loggers without mixins, formatters or hooks (the root logger has none).
 */
export function directLineWriter(logger: pino.Logger): LineWriter {
  const internals = logger as unknown as Record<symbol, unknown>;
  const stream = internals[pino.symbols.streamSym] as { write(line: string): void };
  const time = internals[pino.symbols.timeSym] as () => string;
  const levels = logger.levels.values;
  return (level, fieldsJson, msg) => {
    // Read at each call: pino keeps its bindings (pid, hostname) as a ready-made JSON fragment here.
    const bindings = internals[pino.symbols.chindingsSym] as string;
    stream.write(`{"level":${levels[level]}${time()}${bindings},${fieldsJson},"msg":${JSON.stringify(msg)}}\n`);
  };
}

/** A string as a JSON value; a missing one as null. */
export function jsonString(value: string | undefined | null): string {
  return value == null ? 'null' : JSON.stringify(value);
}

/** A number as a JSON value; NaN or an infinity (which JSON cannot hold) as null. */
export function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}
