import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source.options';
import { runPendingMigrations } from '../../src/database/migrate';
import { ShutdownCoordinator } from '../../src/lifecycle/shutdown-coordinator';
import { TestApp } from '../support/test-app';
import { createFreshDatabase, dropDatabase } from '../support/test-database';

const READY = {
  status: 'ok',
  info: { shutdown: { status: 'up' }, database: { status: 'up' }, migrations: { status: 'up' } },
  error: {},
  details: { shutdown: { status: 'up' }, database: { status: 'up' }, migrations: { status: 'up' } },
};

describe('health probes', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await TestApp.start();
  });
  afterAll(async () => {
    await app.close();
  });

  it('GET /healthz is 200 without credentials, checks nothing and says nothing more', async () => {
    const response = await app.request('/healthz');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
    expect(response.headers.get('cache-control')).toContain('no-store');
  });

  it('GET /readyz is 200 without credentials with only up/down per check: no versions, hosts or timings', async () => {
    const response = await app.request('/readyz');
    expect(response.status).toBe(200);
    expect(response.body).toEqual(READY);
  });

  it('ignores credentials, even invalid ones', async () => {
    expect((await app.request('/readyz', { token: 'wgk_not-a-key' })).status).toBe(200);
  });

  it('lives at the root, not under /api/v1, and is not in the OpenAPI document', async () => {
    expect((await app.request('/api/v1/healthz')).status).toBe(404);
    expect((await app.request('/api/v1/readyz')).status).toBe(404);
    const document = (await app.request('/docs-json')).body;
    expect(Object.keys(document.paths)).not.toEqual(expect.arrayContaining(['/healthz']));
    expect(Object.keys(document.paths).filter((path) => /healthz|readyz|metrics/.test(path))).toEqual([]);
  });
});

describe('readiness and migrations', () => {
  it('is not ready until every migration is applied (a migration Job still running), then ready without restart', async () => {
    const database = await createFreshDatabase(process.env.TEST_SERVER_DATABASE_URL!, 'gw_test_ready');
    // With CURSOR_SECRET and CREDENTIALS_ENCRYPTION_KEY set (as the Kubernetes manifests set them), booting reads no table.
    const app = await TestApp.start({
      DATABASE_URL: database.url,
      DATABASE_MIGRATE_ON_START: 'false',
      CURSOR_SECRET: 'x'.repeat(32),
      CREDENTIALS_ENCRYPTION_KEY: 'ab'.repeat(32),
    });
    try {
      const before = await app.request('/readyz');
      expect(before.status).toBe(503);
      expect(before.body).toMatchObject({ status: 'error', error: { migrations: { status: 'down' } }, info: { database: { status: 'up' } } });
      expect(JSON.stringify(before.body)).not.toMatch(/relation|does not exist|SELECT|postgres/i);

      const migrator = await new DataSource(dataSourceOptions({ url: database.url })).initialize();
      await runPendingMigrations(migrator);
      await migrator.destroy();

      const after = await app.request('/readyz');
      expect(after.status).toBe(200);
      expect(after.body).toEqual(READY);
    } finally {
      await app.close();
      await dropDatabase(process.env.TEST_SERVER_DATABASE_URL!, database.name);
    }
  });
});

describe('draining', () => {
  it('turns readiness false at once while liveness and the API keep answering, with Connection: close', async () => {
    const app = await TestApp.start();
    try {
      const tenant = await app.createTenant();
      app.app.get(ShutdownCoordinator).beginDrain();

      const readiness = await app.request('/readyz');
      expect(readiness.status).toBe(503);
      expect(readiness.body).toMatchObject({
        status: 'error',
        error: { shutdown: { status: 'down' } },
        info: { database: { status: 'up' }, migrations: { status: 'up' } },
      });
      expect(readiness.headers.get('connection')).toBe('close');

      const liveness = await app.request('/healthz');
      expect(liveness.status).toBe(200);
      const api = await app.request(`/api/v1/sessions/${tenant.sessionId}/chats`, { token: tenant.apiKey });
      expect(api.status).toBe(200);
      expect(api.headers.get('connection')).toBe('close');
    } finally {
      await app.close();
    }
  });

  it('runs shutdown tasks (WhatsApp sockets, leases) after draining and before the database pool closes', async () => {
    const app = await TestApp.start();
    const order: string[] = [];
    const coordinator = app.app.get(ShutdownCoordinator);
    coordinator.onDrain(() => order.push('drain'));
    coordinator.onShutdown('release leases', async () => {
      // The database is still open here: a lease release is a write.
      const [row] = await app.dataSource.query('SELECT 1 AS one');
      order.push(`task saw database: ${row.one}`);
    });
    coordinator.onShutdown('a failing task', () => {
      throw new Error('boom');
    });
    const dataSource = app.dataSource;
    await app.close();
    order.push(`pool closed: ${!dataSource.isInitialized}`);
    expect(order).toEqual(['drain', 'task saw database: 1', 'pool closed: true']);
  });
});
