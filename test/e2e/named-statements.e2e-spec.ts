import { TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

interface Prepared {
  name: string;
  generic_plans: string;
  custom_plans: string;
}

/**
 * The outbox's hot statements go by name (src/database/named-statement.ts): prepared once per
 * connection, and planned once when their plan does not depend on their values. PostgreSQL shows
 * a connection's prepared statements to that connection only: the test takes every connection of
 * the app's pool at once and reads them all.
 */
const POOL = 3;

describe('named statements of the outbox', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await TestApp.start({ DATABASE_POOL_MAX: String(POOL), SEND_POLL_MS: '50', SESSION_CAPACITY: '0' });
  });
  afterAll(async () => {
    await app?.close();
  });

  /** The outbox's prepared statements of every pooled connection, by name (the most planned connection's, for a name several have). */
  const prepared = async (): Promise<Map<string, Prepared>> => {
    const runners = Array.from({ length: POOL }, () => app.dataSource.createQueryRunner());
    try {
      await Promise.all(runners.map((runner) => runner.connect()));
      const found = new Map<string, Prepared>();
      for (const runner of runners) {
        const rows: Prepared[] = await runner.query(`SELECT name, generic_plans, custom_plans FROM pg_prepared_statements WHERE name LIKE 'outbox_%'`);
        for (const row of rows) if (Number(row.generic_plans) >= Number(found.get(row.name)?.generic_plans ?? -1)) found.set(row.name, row);
      }
      return found;
    } finally {
      await Promise.all(runners.map((runner) => runner.release()));
    }
  };

  it("every replica's sweeps, run at every tick, are planned once (generic plans after the first five)", async () => {
    const statements = await waitFor(async () => {
      const found = await prepared();
      const planned = ['outbox_expire', 'outbox_sweep_unacked'].every((name) => Number(found.get(name)?.generic_plans ?? 0) > 0);
      return planned && found;
    }, 120_000);
    for (const name of ['outbox_expire', 'outbox_sweep_unacked']) expect(Number(statements.get(name)!.custom_plans)).toBe(5);
  });

  it('an accept with an Idempotency-Key looks up its key and session through a named statement', async () => {
    const tenant = await app.createTenant(['send']);
    const response = await app.request(`/api/v1/sessions/${tenant.sessionId}/messages`, {
      token: tenant.apiKey,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'named-lookup' },
      body: JSON.stringify({ to: '+6281234567890', text: 'hello' }),
    });
    expect(response.status).toBe(202);
    expect((await prepared()).has('outbox_first_answers_on_owned_sessions')).toBe(true);
  });
});
