import { Logger } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ShutdownCoordinator } from './shutdown-coordinator';

export interface GracefulShutdownOptions {
  /** SHUTDOWN_DELAY_MS: keep serving (readiness already false) while the endpoint removal propagates. */
  delayMs: number;
  /** SHUTDOWN_GRACE_MS: the whole shutdown ends within this, or the process exits 1. */
  graceMs: number;
  /** Called once with the exit code (0: clean, 1: failed or overran the grace period). */
  exit: (code: number) => void;
  signals?: NodeJS.Signals[];
}

const SWEEP_INTERVAL_MS = 200;

/**
 * SIGTERM (and SIGINT, without the delay: that is a developer's Ctrl-C):
 * 1. readiness turns false at once (Kubernetes stops routing new traffic to the pod);
 * 2. the server keeps serving for `delayMs`, answering with `Connection: close`;
 * 3. it stops accepting connections, finishes in-flight requests and closes keep-alive
 *    connections as they go idle; connections still busy when the drain budget is spent are cut;
 * 4. app.close(): ShutdownCoordinator tasks (WhatsApp sockets, leases), then the database pool;
 * 5. exit 0. Whatever happens, the process is gone within `graceMs` of the signal.
 */
export function installGracefulShutdown(app: INestApplication, options: GracefulShutdownOptions): void {
  const logger = new Logger('Shutdown');
  const connections = trackConnections(app.getHttpServer() as Server);
  let started = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (started) {
      logger.warn(`${signal} received while already shutting down; ignoring`);
      return;
    }
    started = true;
    const hardStop = setTimeout(() => {
      logger.error(`shutdown did not complete within SHUTDOWN_GRACE_MS (${options.graceMs} ms); exiting`);
      options.exit(1);
    }, options.graceMs);
    hardStop.unref();
    shutDown(app, signal, options, logger, connections).then(
      () => {
        clearTimeout(hardStop);
        options.exit(0);
      },
      (error: unknown) => {
        clearTimeout(hardStop);
        logger.error({ err: error }, 'shutdown failed');
        options.exit(1);
      },
    );
  };
  for (const signal of options.signals ?? (['SIGTERM', 'SIGINT'] as NodeJS.Signals[])) process.on(signal, onSignal);
}

async function shutDown(
  app: INestApplication,
  signal: NodeJS.Signals,
  options: GracefulShutdownOptions,
  logger: Logger,
  connections: ReadonlySet<Socket>,
): Promise<void> {
  const startedAt = Date.now();
  const deadline = startedAt + options.graceMs;
  const delayMs = signal === 'SIGINT' ? 0 : options.delayMs;
  app.get(ShutdownCoordinator).beginDrain(deadline);
  // Requests that arrived before the signal answer with `Connection: close` too (later ones get it from the HTTP platform's hook, src/http/).
  for (const socket of connections) {
    const response = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (response && !response.headersSent) response.setHeader('Connection', 'close');
  }
  logger.log(`${signal}: readiness is now false; serving for ${delayMs} ms more, then draining`);
  await sleep(delayMs);

  // Leave part of the budget for the cleanup tasks and the database pool.
  const cleanupReserveMs = Math.min(5000, Math.floor((options.graceMs - delayMs) / 2));
  const drainBudgetMs = Math.max(0, deadline - cleanupReserveMs - Date.now());
  const server = app.getHttpServer() as Server;
  const cut = await drainHttpServer(server, drainBudgetMs);
  if (cut > 0) logger.warn(`drain budget of ${drainBudgetMs} ms spent: closed ${cut} busy connection(s)`);
  logger.log('HTTP server drained; running shutdown tasks and closing the database pool');
  await app.close();
  logger.log(`shutdown complete in ${Date.now() - startedAt} ms`);
}

/** The server's open connections, tracked per connection (not per request: nothing is added to the hot path). */
function trackConnections(server: Server): ReadonlySet<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

/**
 * Stops accepting connections, then waits for in-flight requests. Idle keep-alive connections are
 * closed right away and swept again as busy ones go idle. Resolves with the number of connections
 * that had to be cut when `budgetMs` ran out.
 */
export function drainHttpServer(server: Server, budgetMs: number): Promise<number> {
  return new Promise((resolve) => {
    let cut = 0;
    const sweep = setInterval(() => server.closeIdleConnections(), SWEEP_INTERVAL_MS);
    const budget = setTimeout(() => {
      server.getConnections((_error, count) => {
        cut = count;
        server.closeAllConnections();
      });
    }, budgetMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(budget);
      resolve(cut);
    });
    server.closeIdleConnections();
  });
}
