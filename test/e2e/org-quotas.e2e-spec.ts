import { randomUUID } from 'node:crypto';
import type { Capability } from '../../src/common/capabilities';
import { newSessionId } from '../../src/sessions/session-id';
import { LeaseManager } from '../../src/whatsapp-sync/leases/lease-manager';
import { LeasesRepository } from '../../src/whatsapp-sync/leases/leases.repository';
import { IsolatedDatabase, isolatedDatabase } from '../support/isolated-database';
import { HttpResult, TestApp, Tenant } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const ALL: Capability[] = ['read', 'send', 'manage', 'admin'];

/**
 * One tenant cannot take the cluster: sessions and running sessions per organization are capped
 * (defaults from ORG_MAX_SESSIONS / ORG_MAX_RUNNING_SESSIONS, overridden per org in org_quotas),
 * on create, on start and when a replica claims a lease; and when the replicas' capacity is short,
 * each organization gets its turn.
 */
describe('Organization quotas', () => {
  describe('over the API', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await TestApp.start({ ORG_MAX_SESSIONS: '3', ORG_MAX_RUNNING_SESSIONS: '2' });
    });
    afterAll(async () => {
      await app.close();
    });

    /** An org with no session yet, and a key that may do everything. */
    async function emptyOrg(): Promise<Tenant> {
      const tenant = await app.createTenant(ALL);
      await app.dataSource.query('DELETE FROM sessions WHERE id = $1', [tenant.sessionId]);
      return tenant;
    }
    const create = (tenant: Tenant, body: Record<string, unknown>): Promise<HttpResult> =>
      app.request('/api/v1/sessions', { token: tenant.apiKey, method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const start = (tenant: Tenant, id: string) => app.request(`/api/v1/sessions/${id}/start`, { token: tenant.apiKey, method: 'POST' });

    it('refuses the session beyond ORG_MAX_SESSIONS with 409 quota_exceeded; another org is not affected', async () => {
      const tenant = await emptyOrg();
      for (let i = 0; i < 3; i++) expect((await create(tenant, { name: `n${i}`, start: false })).status).toBe(201);
      const refused = await create(tenant, { name: 'one too many', start: false });
      expect(refused.status).toBe(409);
      expect(refused.body.error).toEqual({
        code: 'quota_exceeded',
        message: 'the organization has reached its quota of 3 sessions; delete a session first',
        details: { quota: 'sessions', limit: 3 },
      });
      const other = await emptyOrg();
      expect((await create(other, { name: 'fine', start: false })).status).toBe(201);
    });

    it('refuses starting beyond ORG_MAX_RUNNING_SESSIONS; starting a running session again, and stopping, are fine', async () => {
      const tenant = await emptyOrg();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await create(tenant, { name: `n${i}`, start: false })).body.id);
      expect((await start(tenant, ids[0])).status).toBe(200);
      expect((await start(tenant, ids[1])).status).toBe(200);
      expect((await start(tenant, ids[1])).status).toBe(200);
      const refused = await start(tenant, ids[2]);
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({ code: 'quota_exceeded', details: { quota: 'running_sessions', limit: 2 } });
      expect((await app.request(`/api/v1/sessions/${ids[2]}`, { token: tenant.apiKey })).body.desiredState).toBe('stopped');
      await app.request(`/api/v1/sessions/${ids[0]}/stop`, { token: tenant.apiKey, method: 'POST' });
      expect((await start(tenant, ids[2])).status).toBe(200);
    });

    it('a session created to start at once counts against the running quota; nothing is created when refused', async () => {
      const tenant = await emptyOrg();
      expect((await create(tenant, { name: 'a' })).status).toBe(201);
      expect((await create(tenant, { name: 'b' })).status).toBe(201);
      const refused = await create(tenant, { name: 'c' });
      expect(refused.body.error).toMatchObject({ code: 'quota_exceeded', details: { quota: 'running_sessions', limit: 2 } });
      expect((await app.request('/api/v1/sessions', { token: tenant.apiKey })).body.data).toHaveLength(2);
    });

    it('concurrent creates cannot overshoot the quota', async () => {
      const tenant = await emptyOrg();
      const statuses = (await Promise.all(Array.from({ length: 8 }, (_, i) => create(tenant, { name: `c${i}`, start: false })))).map((r) => r.status);
      expect(statuses.filter((status) => status === 201)).toHaveLength(3);
      expect(statuses.filter((status) => status === 409)).toHaveLength(5);
    });

    it('an org_quotas row overrides the defaults for its org', async () => {
      const tenant = await emptyOrg();
      await app.dataSource.query('INSERT INTO org_quotas (org_id, max_sessions, max_running_sessions) VALUES ($1, 5, NULL)', [tenant.orgId]);
      for (let i = 0; i < 5; i++) expect((await create(tenant, { name: `n${i}`, start: false })).status).toBe(201);
      expect((await create(tenant, { name: 'sixth', start: false })).body.error.details).toEqual({ quota: 'sessions', limit: 5 });
    });
  });

  describe('when a replica claims leases', () => {
    let database: IsolatedDatabase;
    let app: TestApp | undefined;
    beforeAll(async () => {
      database = await isolatedDatabase();
    });
    afterAll(async () => {
      await app?.close();
      await database.drop();
    });

    /** Sessions meant to run, written straight to the database (as after a quota was lowered, or by many creates over time). */
    async function runningSessions(orgId: string, count: number): Promise<string[]> {
      const ids = Array.from({ length: count }, () => newSessionId());
      await app!.dataSource.query(
        `INSERT INTO sessions (id, org_id, name, status, desired_state) SELECT id, $1, 'running', 'connecting', 'running' FROM unnest($2::text[]) AS id`,
        [orgId, ids],
      );
      return ids;
    }

    it('holds no more of an org than its running quota, and shares short capacity fairly between orgs', async () => {
      app = await TestApp.start({
        DATABASE_URL: database.url,
        SESSION_CAPACITY: '0',
        ORG_MAX_RUNNING_SESSIONS: '50',
      });
      const big = `org-${randomUUID()}`;
      const small = `org-${randomUUID()}`;
      const capped = `org-${randomUUID()}`;
      const bigIds = await runningSessions(big, 30);
      const smallIds = await runningSessions(small, 2);
      const cappedIds = await runningSessions(capped, 4);
      await app.dataSource.query('INSERT INTO org_quotas (org_id, max_running_sessions) VALUES ($1, 1)', [capped]);
      await app.close();

      // A replica with room for 6 of the 36 sessions: 2 each for the big and the small org, 1 for the capped one.
      app = await TestApp.start({
        DATABASE_URL: database.url,
        SESSION_CAPACITY: '6',
        // Long enough that no renewal is late on a loaded machine (a late one drops the lease locally).
        SESSION_LEASE_TTL_MS: '30000',
        SESSION_LEASE_RENEW_INTERVAL_MS: '200',
        SESSION_TAKEOVER_JITTER_MS: '0',
        ORG_MAX_RUNNING_SESSIONS: '50',
      });
      const leases = app.app.get(LeaseManager);
      await waitFor(() => leases.heldSessionIds().length >= 6, 20_000);
      // Another scan must not add more of the capped org, nor more than the capacity.
      await leases.tickNow();
      const live: { id: string }[] = await app.dataSource.query(`SELECT session_id AS id FROM session_leases WHERE owner IS NOT NULL AND expires_at > now()`);
      const heldNow = live.map((row) => row.id);
      expect(heldNow).toHaveLength(6);
      expect(heldNow.filter((id) => smallIds.includes(id)).sort()).toEqual([...smallIds].sort());
      expect(heldNow.filter((id) => cappedIds.includes(id))).toHaveLength(1);
      expect(heldNow.filter((id) => bigIds.includes(id))).toHaveLength(3);
    });

    it('replicas claiming at the same moment cannot take an org past its running quota', async () => {
      await app?.close();
      app = await TestApp.start({ DATABASE_URL: database.url, SESSION_CAPACITY: '0', ORG_MAX_RUNNING_SESSIONS: '2', DATABASE_POOL_MAX: '12' });
      const org = `org-${randomUUID()}`;
      const ids = await runningSessions(org, 12);
      const repository = app.app.get(LeasesRepository);
      // Twelve replicas, each claiming its own session of the org at once.
      const fences = await Promise.all(ids.map((id, i) => repository.claim(id, `replica-${i}`, 30_000, true)));
      expect(fences.filter(Boolean)).toHaveLength(2);
    });
  });
});
