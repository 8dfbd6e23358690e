import { Inject, Injectable, LoggerService } from '@nestjs/common';
import type pino from 'pino';
import { ROOT_LOGGER } from './root-logger';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

const NEST_BOOT_CONTEXTS: ReadonlySet<string> = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

/**
 * Nest's application log on the root pino logger. Call sites write `logger.log('text')` or
 * `logger.warn({ err, sessionId }, 'text')`: an object first is merged into the line, an Error
 * first becomes `err`. Nest's Logger appends its context (e.g. 'Leases') as the last parameter.
 */
@Injectable()
export class NestLogger implements LoggerService {
  constructor(@Inject(ROOT_LOGGER) private readonly root: pino.Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    // Nest's own boot lines (a line per module and per route, ~45 in all) are debug: start-up stays quiet.
    this.write(NEST_BOOT_CONTEXTS.has(params[params.length - 1] as string) ? 'debug' : 'info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.root.isLevelEnabled(level)) return;
    const rest = params.filter((param) => param !== undefined);
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    if (message instanceof Error) {
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- Nest passes a string here; String() is what it always was
      this.root[level]({ context, err: message }, String(rest[0] ?? message.message));
    } else if (typeof message === 'object' && message !== null) {
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- as above
      this.root[level]({ context, ...message }, rest.length > 0 ? String(rest[0]) : undefined);
    } else if (level === 'error' && typeof rest[0] === 'string' && rest[0].includes('\n    at ')) {
      // Nest's own `error(message, stack, context)`.
      this.root.error({ context, err: { message: String(message), stack: rest[0] } }, String(message));
    } else {
      this.root[level]({ context }, String(message));
    }
  }
}
