import { ChatsRepository, displayPageQuery } from '../../src/chats/chats.repository';
import { PageReadPool } from '../../src/database/page-read-pool';
import { explainPageStatement } from '../support/page-plan';
import { TestApp } from '../support/test-app';

describe('the page-read pool List chats reads on', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await TestApp.start();
  });
  afterAll(async () => {
    await app.close();
  });

  it('plans prepared statements once (generic plans), while TypeORM connections keep plans made for their values', async () => {
    const client = await app.app.get(PageReadPool).connect();
    try {
      expect((await client.query('SHOW plan_cache_mode')).rows[0].plan_cache_mode).toBe('force_generic_plan');
      expect((await client.query('SHOW application_name')).rows[0].application_name).toMatch(/^whatsapp-gateway\/.+\/pages$/);
    } finally {
      client.release();
    }
    expect((await app.dataSource.query('SHOW plan_cache_mode'))[0].plan_cache_mode).toBe('auto');
  });

  it('walks chats_display_order backwards with no sort, reading limit + 1 rows, on one generic plan per statement', async () => {
    const tenant = await app.createTenant();
    await app.insertChats(
      tenant.sessionId,
      Array.from({ length: 600 }, (_, i) => ({
        pinnedAt: i % 200 === 0 ? 1_700_000_000_000 + i : null,
        lastMessageAt: i % 7 === 0 ? null : 1_700_000_000_000 + i * 1000,
      })),
    );
    await app.dataSource.query('ANALYZE chats');
    const page = await app.app.get(ChatsRepository).findOwnedPageForDisplay(tenant.orgId, tenant.sessionId, 50);
    expect(page?.next).toBeDefined();

    const client = await app.app.get(PageReadPool).connect();
    try {
      for (const query of [displayPageQuery(tenant.orgId, tenant.sessionId, 51), displayPageQuery(tenant.orgId, tenant.sessionId, 51, page!.next)]) {
        // Past the five runs after which PostgreSQL, left to itself, would weigh a generic plan.
        for (let run = 0; run < 6; run++) await client.query(query);
        const plan = await explainPageStatement(client, query, 51);
        expect(plan).toMatchObject({ indexScan: 'Index Scan Backward using chats_display_order', hasSort: false, customPlans: 0 });
        expect(plan.genericPlans).toBeGreaterThanOrEqual(8);
        expect(plan.rowsRead).toBeLessThanOrEqual(52);
        expect(plan.plan).toContain('$1');
        expect(plan.ok).toBe(true);
      }
    } finally {
      client.release();
    }
  });
});
