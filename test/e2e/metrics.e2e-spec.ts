import { MetricsServer } from '../../src/metrics/metrics-server';
import { SyncMetrics } from '../../src/whatsapp-sync/sync/sync-metrics';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

/** The value of one sample line (`name{labels} value`) of a Prometheus text exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',');
    if (wanted.every((pair) => present.includes(pair))) return Number(match[3]);
  }
  return undefined;
}

describe('GET /metrics', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await TestApp.start({ DATABASE_PAGE_POOL_MAX: '4' });
  });
  afterAll(async () => {
    await app.close();
  });

  it('exposes the request histogram by route pattern and status, without credentials', async () => {
    const tenant = await app.createTenant();
    const route = '/api/v1/sessions/:session/chats';
    const before = await app.request('/metrics');
    const countBefore = sample(before.text, 'http_request_duration_seconds_count', { method: 'GET', route, status_code: '200' }) ?? 0;
    for (let i = 0; i < 3; i++) expect((await app.request(`/api/v1/sessions/${tenant.sessionId}/chats`, { token: tenant.apiKey })).status).toBe(200);
    expect((await app.request('/api/v1/sessions/not-mine/chats', { token: tenant.apiKey })).status).toBe(404);
    expect((await app.request(`/no/such/route/${Math.random()}`)).status).toBe(404);

    const response = await app.request('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = response.text;
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route, status_code: '200' })).toBe(countBefore + 3);
    expect(sample(text, 'http_request_duration_seconds_bucket', { le: '+Inf', method: 'GET', route, status_code: '200' })).toBe(countBefore + 3);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route, status_code: '404' })).toBeGreaterThanOrEqual(1);
    // Unknown paths share one label value: the raw URL never becomes a label.
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status_code: '404' })).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('/no/such/route');
    expect(text).not.toContain(tenant.sessionId);
  });

  it('counts a request whose client hangs up before the response, by route', async () => {
    const route = '/api/v1/sessions';
    const countBefore = sample((await app.request('/metrics')).text, 'http_requests_aborted_total', { method: 'POST', route }) ?? 0;
    // Headers and part of the announced body, then the client goes away.
    const socket = connect(Number(new URL(app.baseUrl).port), '127.0.0.1');
    await new Promise((done) => socket.once('connect', done));
    socket.write(`POST ${route} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":`);
    await sleep(200);
    socket.destroy();
    const counted = await waitFor(async () => {
      const value = sample((await app.request('/metrics')).text, 'http_requests_aborted_total', { method: 'POST', route });
      return value === countBefore + 1 ? value : undefined;
    });
    expect(counted).toBe(countBefore + 1);
  });

  it('exposes database pool usage, default process metrics, and the session and sync metrics other modules feed', async () => {
    const sync = app.app.get(SyncMetrics);
    sync.batchApplied(['chats.upsert', 'messages.upsert'], 3, 5);
    sync.batchApplied(['chats.upsert'], 1, 2);
    const tenant = await app.createTenant();
    expect((await app.request(`/api/v1/sessions/${tenant.sessionId}/chats`, { token: tenant.apiKey })).status).toBe(200);
    const text = (await app.request('/metrics')).text;
    // Two pools: TypeORM's (everything else) and the one List chats reads its pages on.
    expect(sample(text, 'gateway_db_pool_max_connections', { pool: 'main' })).toBe(10);
    expect(sample(text, 'gateway_db_pool_max_connections', { pool: 'pages' })).toBe(4);
    for (const pool of ['main', 'pages']) {
      expect(sample(text, 'gateway_db_pool_connections', { pool, state: 'idle' })).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'gateway_db_pool_connections', { pool, state: 'in_use' })).toBeGreaterThanOrEqual(0);
      expect(sample(text, 'gateway_db_pool_waiting_requests', { pool })).toBe(0);
    }
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    // The test run's gateways hold no WhatsApp connection (SESSION_CAPACITY=0): every status reads 0.
    for (const status of ['stopped', 'connecting', 'qr_required', 'connected', 'logged_out', 'failed']) {
      expect(sample(text, 'gateway_whatsapp_sessions', { status })).toBe(0);
    }
    expect(sample(text, 'gateway_sync_events_processed_total', { event: 'chats.upsert' })).toBe(2);
    expect(sample(text, 'gateway_sync_events_processed_total', { event: 'messages.upsert' })).toBe(1);
  });
});

describe('METRICS_PORT', () => {
  it('serves /metrics on its own port only', async () => {
    const app = await TestApp.start({ METRICS_PORT: '0' });
    try {
      const port = app.app.get(MetricsServer).port;
      expect(port).toEqual(expect.any(Number));
      expect((await app.request('/metrics')).status).toBe(404);
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('# TYPE http_request_duration_seconds histogram');
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/anything`)).status).toBe(404);
    } finally {
      await app.close();
    }
  });

  it('METRICS_ENABLED=false serves no /metrics at all', async () => {
    const app = await TestApp.start({ METRICS_ENABLED: 'false' });
    try {
      expect((await app.request('/metrics')).status).toBe(404);
    } finally {
      await app.close();
    }
  });
});
