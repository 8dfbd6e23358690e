import { AppConfig } from '../../config/app-config';
import type { LeaseFence } from './lease-fence';
import { LeaseHolder, LeaseManager } from './lease-manager';
import type { LeasesRepository } from './leases.repository';

const TTL_MS = 400;

function config(): AppConfig {
  return AppConfig.fromEnvironment({
    REPLICA_ID: 'replica-under-test',
    SESSION_CAPACITY: '5',
    SESSION_LEASE_TTL_MS: String(TTL_MS),
    SESSION_LEASE_RENEW_INTERVAL_MS: '100',
    SESSION_TAKEOVER_JITTER_MS: '0',
  });
}

class RecordingHolder implements LeaseHolder {
  readonly events: string[] = [];
  acquired(fence: LeaseFence): void {
    this.events.push(`acquired ${fence.sessionId}`);
  }
  lost(sessionId: string, reason: string): void {
    this.events.push(`lost ${sessionId}: ${reason}`);
  }
  stopRequested(sessionId: string): void {
    this.events.push(`stop ${sessionId}`);
  }
  shed(sessionId: string): void {
    this.events.push(`shed ${sessionId}`);
  }
  async closeAll(): Promise<void> {
    this.events.push('closeAll');
  }
}

/** The repository as the manager uses it; `renew` can be made to hang like an unreachable database. */
function repository(overrides: Partial<Record<keyof LeasesRepository, unknown>> = {}): LeasesRepository {
  return {
    heartbeat: async () => undefined,
    removeReplica: async () => undefined,
    pruneReplicas: async () => undefined,
    census: async () => ({ runningSessions: 1, liveCapacities: [5] }),
    findClaimable: async () => [],
    claim: async (sessionId: string, owner: string) => ({ sessionId, owner, epoch: '1' }),
    renew: async (_owner: string, fences: LeaseFence[]) => fences.map((fence) => ({ sessionId: fence.sessionId, desiredState: 'running' })),
    release: async () => undefined,
    holderOf: async () => undefined,
    isCurrent: async () => true,
    ...overrides,
  } as unknown as LeasesRepository;
}

const waitUntil = async (condition: () => boolean, ms = 3000) => {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('LeaseManager', () => {
  let manager: LeaseManager | undefined;
  afterEach(async () => {
    await manager?.beforeApplicationShutdown();
    manager = undefined;
  });

  it('gives a lease up by itself when renewals stop answering, before the TTL could pass', async () => {
    let hang = false;
    const holder = new RecordingHolder();
    manager = new LeaseManager(
      config(),
      repository({
        renew: (_owner: string, fences: LeaseFence[]) =>
          hang ? new Promise(() => undefined) : Promise.resolve(fences.map((fence) => ({ sessionId: fence.sessionId, desiredState: 'running' }))),
        heartbeat: () => (hang ? new Promise(() => undefined) : Promise.resolve()),
      }),
    );
    manager.attach(holder);
    manager.onApplicationBootstrap();
    await manager.claimToHold('S1');
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(manager.heldSessionIds()).toEqual(['S1']);
    hang = true;
    // No renewal ever answers again: the watchdog gives the lease up on its own (at 80% of the TTL
    // after the last renewal that was sent, by this process's clock).
    await waitUntil(() => holder.events.some((event) => event.startsWith('lost S1')));
    expect(holder.events.find((event) => event.startsWith('lost S1'))).toContain('could not be renewed in time');
    expect(manager.heldSessionIds()).toEqual([]);
    // And shutting down does not wait for the database that does not answer (afterEach).
  });

  it('drops a lease the database no longer renews, and passes a stop request on', async () => {
    const holder = new RecordingHolder();
    let renewals = 0;
    manager = new LeaseManager(
      config(),
      repository({
        renew: async (_owner: string, fences: LeaseFence[]) => {
          renewals++;
          return fences.filter((fence) => fence.sessionId !== 'TAKEN').map((fence) => ({ sessionId: fence.sessionId, desiredState: 'stopped' }));
        },
      }),
    );
    manager.attach(holder);
    manager.onApplicationBootstrap();
    await manager.claimToHold('TAKEN');
    await manager.claimToHold('STOPPING');
    await waitUntil(() => renewals > 0 && holder.events.includes('stop STOPPING'));
    expect(holder.events).toContain('lost TAKEN: the lease was taken over or the session removed');
    expect(manager.heldSessionIds()).toEqual(['STOPPING']);
  });

  it('claims within its capacity only, and on shutdown closes everything before releasing', async () => {
    const released: LeaseFence[][] = [];
    const holder = new RecordingHolder();
    manager = new LeaseManager(config(), repository({ release: async (fences: LeaseFence[]) => void released.push(fences) }));
    manager.attach(holder);
    manager.onApplicationBootstrap();
    const fences = await Promise.all(['A', 'B', 'C', 'D', 'E', 'F'].map((id) => manager!.claimToHold(id)));
    expect(fences.filter(Boolean)).toHaveLength(5);
    await manager.beforeApplicationShutdown();
    expect(holder.events[holder.events.length - 1]).toBe('closeAll');
    expect(
      released
        .flat()
        .map((fence) => fence.sessionId)
        .sort(),
    ).toEqual(['A', 'B', 'C', 'D', 'E']);
    manager = undefined;
  });

  it('sheds sessions above its fair share, one step at a time', async () => {
    const holder = new RecordingHolder();
    manager = new LeaseManager(config(), repository({ census: async () => ({ runningSessions: 4, liveCapacities: [5, 5] }) }));
    manager.attach(holder);
    manager.onApplicationBootstrap();
    for (const id of ['A', 'B', 'C', 'D']) await manager.claimToHold(id);
    await waitUntil(() => holder.events.some((event) => event.startsWith('shed')));
    // 4 running over 2 replicas: 2 each, so 2 of these 4 go, newest first.
    const shed = holder.events.filter((event) => event.startsWith('shed'));
    expect(shed[0]).toBe('shed D');
  });
});
