/**
 * One more gateway replica, as a separate process (forked with ts-node by the lease tests): the
 * whole app on a loopback port, with the environment it was given. Over IPC it says when it is
 * ready and answers which sessions it believes it holds.
 */
import 'reflect-metadata';
import { installGracefulShutdown } from '../../src/lifecycle/graceful-shutdown';
import { LeaseManager } from '../../src/whatsapp-sync/leases/lease-manager';
import { TestApp } from './test-app';

type Request = { id: number; type: 'held' } | { id: number; type: 'close' };

async function main(): Promise<void> {
  const app = await TestApp.start();
  const leases = app.app.get(LeaseManager);
  process.on('message', (request: Request) => {
    if (request.type === 'held') process.send!({ id: request.id, held: leases.heldSessionIds() });
    if (request.type === 'close') void app.close().then(() => process.send!({ id: request.id }, () => process.exit(0)));
  });
  // SIGTERM shuts down as in production (src/main.ts: drain, shutdown hooks, exit 0), without the delay.
  installGracefulShutdown(app.app, { delayMs: 0, graceMs: 10_000, exit: (code) => process.exit(code) });
  process.send!({ type: 'ready', replicaId: leases.replicaId, baseUrl: app.baseUrl });
}

main().catch((error) => {
  process.stderr.write(String(error?.stack ?? error));
  process.exit(1);
});
