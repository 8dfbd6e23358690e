import { ShutdownCoordinator } from './shutdown-coordinator';

describe('ShutdownCoordinator', () => {
  it('is not draining until beginDrain, then tells every drain listener once', () => {
    const coordinator = new ShutdownCoordinator();
    const calls: string[] = [];
    coordinator.onDrain(() => calls.push('early'));
    expect(coordinator.isDraining).toBe(false);
    coordinator.beginDrain();
    coordinator.beginDrain();
    expect(coordinator.isDraining).toBe(true);
    coordinator.onDrain(() => calls.push('late'));
    expect(calls).toEqual(['early', 'late']);
  });

  it('runs shutdown tasks in parallel, bounded by the deadline; a failing or stuck task does not block the others', async () => {
    const coordinator = new ShutdownCoordinator();
    const done: string[] = [];
    coordinator.onShutdown('stuck', () => new Promise<void>(() => undefined));
    coordinator.onShutdown('fails', () => Promise.reject(new Error('boom')));
    coordinator.onShutdown('works', async () => {
      done.push('works');
    });
    coordinator.beginDrain(Date.now() + 50);
    const startedAt = Date.now();
    await coordinator.beforeApplicationShutdown();
    expect(done).toEqual(['works']);
    expect(Date.now() - startedAt).toBeLessThan(2000);
  });

  it('runs its tasks once even if asked twice', async () => {
    const coordinator = new ShutdownCoordinator();
    let runs = 0;
    coordinator.onShutdown('count', () => {
      runs++;
    });
    await coordinator.beforeApplicationShutdown();
    await coordinator.beforeApplicationShutdown();
    expect(runs).toBe(1);
  });
});
