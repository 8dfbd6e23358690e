import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';

export type ShutdownTask = () => Promise<void> | void;

/** What is left of the budget for cleanup tasks when nothing set a deadline (app.close() in tests, the CLI). */
const DEFAULT_CLEANUP_BUDGET_MS = 10_000;

/**
 * The replica's shutdown state, and the hook point for modules that hold resources outside HTTP.
 *
 * - `isDraining` turns true at SIGTERM (readiness reports not ready from then on).
 * - `onDrain(listener)` runs a listener at that moment, e.g. to stop taking new WhatsApp leases.
 * - `onShutdown(name, task)` runs a task after HTTP has drained and before the database pool
 *   closes: the WhatsApp connection module closes its sockets and releases its session leases
 *   here. Tasks run in parallel, each bounded by what remains of SHUTDOWN_GRACE_MS; a task that
 *   fails or overruns is logged and does not stop the others.
 */
@Injectable()
export class ShutdownCoordinator implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  private readonly drainListeners: (() => void)[] = [];
  private readonly tasks: { name: string; run: ShutdownTask }[] = [];
  private draining = false;
  private deadline?: number;
  private tasksRun = false;

  get isDraining(): boolean {
    return this.draining;
  }

  /** Readiness turns false now; `deadline` (epoch ms) bounds the cleanup tasks. Idempotent. */
  beginDrain(deadline?: number): void {
    if (deadline !== undefined) this.deadline = deadline;
    if (this.draining) return;
    this.draining = true;
    for (const listener of this.drainListeners) {
      try {
        listener();
      } catch (error) {
        this.logger.error({ err: error }, 'drain listener failed');
      }
    }
  }

  onDrain(listener: () => void): void {
    this.drainListeners.push(listener);
    if (this.draining) listener();
  }

  onShutdown(name: string, task: ShutdownTask): void {
    this.tasks.push({ name, run: task });
  }

  /** Nest calls this from app.close(), after HTTP has drained (see graceful-shutdown.ts) and before onApplicationShutdown closes the database pool. */
  async beforeApplicationShutdown(): Promise<void> {
    this.beginDrain();
    await this.runShutdownTasks();
  }

  async runShutdownTasks(): Promise<void> {
    if (this.tasksRun) return;
    this.tasksRun = true;
    const budgetMs = Math.max(0, (this.deadline ?? Date.now() + DEFAULT_CLEANUP_BUDGET_MS) - Date.now());
    await Promise.all(
      this.tasks.map(async ({ name, run }) => {
        let timer: NodeJS.Timeout | undefined;
        const overrun = new Promise<'overrun'>((resolve) => {
          timer = setTimeout(() => resolve('overrun'), budgetMs);
        });
        try {
          const outcome = await Promise.race([Promise.resolve().then(run), overrun]);
          if (outcome === 'overrun') this.logger.warn(`shutdown task "${name}" did not finish within ${budgetMs} ms`);
        } catch (error) {
          this.logger.error({ err: error }, `shutdown task "${name}" failed`);
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  }
}
