import { holdFence, LeaseLostError } from '../../src/whatsapp-sync/leases/lease-fence';
import { LeasesRepository } from '../../src/whatsapp-sync/leases/leases.repository';
import { IsolatedDatabase, isolatedDatabase } from '../support/isolated-database';
import { TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

/**
 * A replica paused in the middle of a transaction (SIGSTOP, a long GC, a network partition) looks
 * to PostgreSQL like a connection idle in a transaction: its locks stay. A fenced write holds a
 * share lock on its session's lease row, which a claim must update: without a bound, the session
 * could not be taken over for as long as the pause lasted (the likely cause of a loaded CI run in which
 * leases.e2e-spec's stopped replica kept its six sessions from the other for more than 60 s).
 */
describe('a replica paused inside a transaction', () => {
  let database: IsolatedDatabase;
  let app: TestApp;

  beforeAll(async () => {
    database = await isolatedDatabase();
    app = await TestApp.start({ DATABASE_URL: database.url, SESSION_CAPACITY: '0', DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '1000' });
  });
  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('does not keep its session from the next holder: PostgreSQL ends the idle transaction, and nothing of it is written', async () => {
    const tenant = await app.createTenant(['manage']);
    const leases = app.app.get(LeasesRepository);
    const fence = (await leases.claim(tenant.sessionId, 'replica-paused', 500, false))!;
    expect(fence).toBeDefined();

    // The holder's fenced write, on a connection of the gateway's pool: fence checked, then the process stops.
    const paused = app.dataSource.createQueryRunner();
    await paused.connect();
    await paused.startTransaction();
    await holdFence(paused.manager, fence);

    await waitFor(async () => {
      const [lease] = await app.dataSource.query(`SELECT expires_at <= now() AS expired FROM session_leases WHERE session_id = $1`, [tenant.sessionId]);
      return lease.expired || undefined;
    });
    // Without the bound this claim waits on the share lock until its statement times out.
    const taken = await leases.claim(tenant.sessionId, 'replica-next', 20_000, false);
    expect(taken).toEqual({ sessionId: tenant.sessionId, owner: 'replica-next', epoch: String(BigInt(fence.epoch) + 1n) });

    // Resumed, the former holder finds its transaction gone, and its fence refused on any new one.
    await expect(paused.query(`UPDATE sessions SET last_error = 'written after the pause' WHERE id = $1`, [tenant.sessionId])).rejects.toThrow();
    await paused.release().catch(() => undefined);
    await expect(app.dataSource.transaction((manager) => holdFence(manager, fence))).rejects.toBeInstanceOf(LeaseLostError);
    const [session] = await app.dataSource.query(`SELECT last_error FROM sessions WHERE id = $1`, [tenant.sessionId]);
    expect(session.last_error).toBeNull();
  });

  it('is bounded by the lease TTL when not set: a pause never holds up a takeover longer than the lease', async () => {
    const [setting] = await app.dataSource.query(`SHOW idle_in_transaction_session_timeout`);
    expect(setting.idle_in_transaction_session_timeout).toBe('1s');
    const defaults = await TestApp.start({
      DATABASE_URL: database.url,
      SESSION_CAPACITY: '0',
      SESSION_LEASE_TTL_MS: '4000',
      SESSION_LEASE_RENEW_INTERVAL_MS: '1000',
    });
    try {
      const [derived] = await defaults.dataSource.query(`SHOW idle_in_transaction_session_timeout`);
      expect(derived.idle_in_transaction_session_timeout).toBe('4s');
    } finally {
      await defaults.close();
    }
  });
});
