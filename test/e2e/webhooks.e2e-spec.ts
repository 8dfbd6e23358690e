import { Webhook } from 'standardwebhooks';
import { EventLogRepository } from '../../src/events/event-log.repository';
import { ChatSyncService } from '../../src/whatsapp-sync/sync/chat-sync.service';
import { NetworkPolicy } from '../../src/webhooks/network-policy';
import { WebhooksRepository } from '../../src/webhooks/webhooks.repository';
import { WebhookSender } from '../../src/webhooks/webhook-sender';
import { IsolatedDatabase, isolatedDatabase } from '../support/isolated-database';
import { listedChat } from '../support/sync-helpers';
import { TestApp, Tenant } from '../support/test-app';
import { waitFor } from '../support/wait-for';
import { WebhookReceiver } from '../support/webhook-receiver';

/** The default retry schedule (5s, 5m, 30m, 2h, 5h, 10h, 14h, 20h, 20h) run 36,000 times faster: about 7 s in all. */
const ENV = {
  WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8',
  WEBHOOK_RETRY_TIME_SCALE: '0.0000278',
  WEBHOOK_TIMEOUT_MS: '2000',
  EVENTS_POLL_INTERVAL_MS: '200',
  JOB_QUEUE_MAINTENANCE_SECONDS: '1',
};

/** POST /webhooks as the tenant; the answer must be 201. */
async function createWebhookOn(app: TestApp, tenant: Tenant, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const response = await app.request('/api/v1/webhooks', {
    token: tenant.apiKey,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
  return response.body;
}

describe('Webhooks', () => {
  let database: IsolatedDatabase;
  let app: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    database = await isolatedDatabase();
    app = await TestApp.start({ ...ENV, DATABASE_URL: database.url });
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  beforeEach(async () => {
    receiver = await WebhookReceiver.start();
  });

  afterEach(async () => {
    await receiver.close();
  });

  const admin = () => app.createTenant(['read', 'admin']);

  const createWebhook = (tenant: Tenant, body: Record<string, unknown>) => createWebhookOn(app, tenant, body);

  /** A chat change, made as a plain SQL write: the event log is written by the database for every writer. */
  async function renameChat(tenant: Tenant, jid: string, name: string): Promise<void> {
    const [, count] = await app.dataSource.query(`UPDATE chats SET name = $3 WHERE session_id = $1 AND jid = $2`, [tenant.sessionId, jid, name]);
    if (count === 0) await app.insertChats(tenant.sessionId, [{ jid, name }]);
  }

  it('delivers a change of the sync, signed so that the Standard Webhooks library verifies it, with the chat as List chats shows it', async () => {
    const tenant = await admin();
    const { secret } = await createWebhook(tenant, { url: receiver.url, eventTypes: ['chat.updated'] });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);

    await app.app
      .get(ChatSyncService)
      .applyHistoryBatch(tenant.sessionId, [{ id: '6281111111111@s.whatsapp.net', name: 'Alice', conversationTimestamp: 1719662400, unreadCount: 2 }]);
    const [delivery] = await receiver.waitFor(() => receiver.requests.length >= 1 && receiver.requests);

    const verified = new Webhook(secret).verify(delivery.body, delivery.headers) as Record<string, any>;
    expect(verified.type).toBe('chat.updated');
    expect(verified.id).toBe(delivery.headers['webhook-id']);
    expect(verified.orgId).toBe(tenant.orgId);
    expect(verified.sessionId).toBe(tenant.sessionId);
    expect(verified.data).toEqual(await listedChat(app, tenant, '6281111111111@s.whatsapp.net'));
    // A forged or altered delivery does not verify.
    expect(() => new Webhook(secret).verify(delivery.body.replace('Alice', 'Mallory'), delivery.headers)).toThrow();
  });

  it('retries a delivery the receiver answered with 500, with the same webhook-id, and shows it in the deliveries API', async () => {
    const tenant = await admin();
    const { id } = await createWebhook(tenant, { url: receiver.url, eventTypes: ['chat.updated'] });
    receiver.answer = (_request, attempt) => (attempt === 1 ? 500 : 200);

    await renameChat(tenant, '6282222222222@s.whatsapp.net', 'Bob');
    const [first, second] = await receiver.waitFor(() => receiver.requests.length >= 2 && receiver.requests);
    expect(second.id).toBe(first.id);
    expect(second.body).toBe(first.body);

    const deliveries = await waitFor(async () => {
      const response = await app.request(`/api/v1/webhooks/${id}/deliveries`, { token: tenant.apiKey });
      return response.body.data[0]?.status === 'delivered' && response.body.data;
    });
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({
      eventId: first.id,
      eventType: 'chat.updated',
      status: 'delivered',
      attempts: 2,
      responseStatus: 200,
      responseExcerpt: 'ok',
      replay: false,
    });
    expect(deliveries[0].durationMs).toBeGreaterThanOrEqual(0);
  });

  it('keeps retrying while the receiver is down for the first hours of the schedule, then delivers every event', async () => {
    const tenant = await admin();
    await createWebhook(tenant, { url: receiver.url, eventTypes: ['chat.updated'] });
    // Down for the first five attempts of each delivery: at 0, 5 s, 5 min, 35 min and about 2.5 h.
    let up = false;
    const accepted = new Set<string>();
    receiver.answer = (request) => {
      if (!up) return 503;
      accepted.add(request.json.data.jid);
      return 200;
    };

    const jids = Array.from({ length: 5 }, (_, index) => `62833333333${index}@s.whatsapp.net`);
    for (const jid of jids) await renameChat(tenant, jid, `person ${jid}`);
    await receiver.waitFor(() => receiver.ids().length === jids.length && receiver.ids().every((id) => receiver.attemptsOf(id).length >= 5));
    up = true;
    await receiver.waitFor(() => accepted.size === jids.length);
    expect([...accepted].sort()).toEqual([...jids].sort());
    expect(receiver.ids()).toHaveLength(jids.length);
  });

  it('disables a webhook whose deliveries fail for the whole schedule, with a webhook.disabled event', async () => {
    const tenant = await admin();
    const { id } = await createWebhook(tenant, { url: receiver.url, eventTypes: ['chat.updated'] });
    receiver.answer = () => 500;

    await renameChat(tenant, '6284444444444@s.whatsapp.net', 'Dora');
    // One attempt and nine retries.
    await receiver.waitFor(() => receiver.requests.length >= 10 && true);
    const webhook = await waitFor(async () => {
      const response = await app.request(`/api/v1/webhooks/${id}`, { token: tenant.apiKey });
      return response.body.enabled === false && response.body;
    });
    expect(webhook.disabledReason).toMatch(/failing/);
    const [event] = await app.dataSource.query(`SELECT type, org_id, data FROM events WHERE type = 'webhook.disabled' AND data ->> 'id' = $1`, [id]);
    expect(event).toMatchObject({ type: 'webhook.disabled', org_id: tenant.orgId, data: { id, enabled: false } });
    const deliveries = await app.request(`/api/v1/webhooks/${id}/deliveries`, { token: tenant.apiKey });
    expect(deliveries.body.data[0]).toMatchObject({ status: 'failed', attempts: 10, responseStatus: 500 });
    expect(receiver.requests).toHaveLength(10);
  });

  it('signs with both secrets while a rotation overlaps', async () => {
    const tenant = await admin();
    const { id, secret: oldSecret } = await createWebhook(tenant, { url: receiver.url, eventTypes: ['chat.updated'] });
    const rotated = await app.request(`/api/v1/webhooks/${id}/rotate-secret`, {
      token: tenant.apiKey,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ overlapSeconds: 3600 }),
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(oldSecret);
    expect(rotated.body.previousSecretExpiresAt).not.toBeNull();

    await renameChat(tenant, '6285555555555@s.whatsapp.net', 'Eve');
    const [delivery] = await receiver.waitFor(() => receiver.requests.length >= 1 && receiver.requests);
    expect(delivery.headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify(delivery.body, delivery.headers)).not.toThrow();
    expect(() => new Webhook(rotated.body.secret).verify(delivery.body, delivery.headers)).not.toThrow();
  });

  it("never delivers one org's events to another org's webhook", async () => {
    const [a, b] = [await admin(), await admin()];
    const other = await WebhookReceiver.start();
    try {
      await createWebhook(a, { url: receiver.url, eventTypes: ['chat.updated', 'chat.deleted', 'session.status'] });
      await createWebhook(b, { url: other.url, eventTypes: ['chat.updated', 'chat.deleted', 'session.status'] });
      for (let i = 0; i < 3; i++) {
        await renameChat(a, `62866666666${i}@s.whatsapp.net`, `a${i}`);
        await renameChat(b, `62877777777${i}@s.whatsapp.net`, `b${i}`);
      }
      await receiver.waitFor(() => receiver.ids().length >= 3 && true);
      await other.waitFor(() => other.ids().length >= 3 && true);
      expect(receiver.requests.every((request) => request.json.orgId === a.orgId && request.json.sessionId === a.sessionId)).toBe(true);
      expect(other.requests.every((request) => request.json.orgId === b.orgId && request.json.sessionId === b.sessionId)).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('filters by session and event type', async () => {
    const tenant = await admin();
    const second = await app.request('/api/v1/sessions', { token: (await app.createTenant(['read', 'manage'])).apiKey });
    expect(second.status).toBe(200);
    await createWebhook(tenant, { url: receiver.url, eventTypes: ['chat.deleted'], sessionId: tenant.sessionId });
    await renameChat(tenant, '6288888888888@s.whatsapp.net', 'Finn');
    await app.dataSource.query(`DELETE FROM chats WHERE session_id = $1 AND jid = $2`, [tenant.sessionId, '6288888888888@s.whatsapp.net']);
    const [deleted] = await receiver.waitFor(() => receiver.requests.length >= 1 && receiver.requests);
    expect(deleted.json).toMatchObject({ type: 'chat.deleted', sessionId: tenant.sessionId, data: { jid: '6288888888888@s.whatsapp.net' } });
    expect(receiver.requests.every((request) => request.json.type === 'chat.deleted')).toBe(true);
  });

  it('replays a time range with the same webhook-ids', async () => {
    const tenant = await admin();
    const { id } = await createWebhook(tenant, { url: receiver.url, eventTypes: ['chat.updated'] });
    const from = new Date(Date.now() - 1000).toISOString();
    for (let i = 0; i < 3; i++) await renameChat(tenant, `62899999999${i}@s.whatsapp.net`, `r${i}`);
    const firstIds = await receiver.waitFor(() => receiver.ids().length >= 3 && receiver.ids());
    const replay = await app.request(`/api/v1/webhooks/${id}/replay`, {
      token: tenant.apiKey,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from, to: new Date(Date.now() + 1000).toISOString() }),
    });
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual({ queued: 3, truncated: false });
    await receiver.waitFor(() => receiver.requests.length >= 6 && true);
    expect(receiver.ids()).toEqual(firstIds);
    const deliveries = await app.request(`/api/v1/webhooks/${id}/deliveries`, { token: tenant.apiKey });
    expect(deliveries.body.data.filter((delivery: { replay: boolean }) => delivery.replay)).toHaveLength(3);
  });

  describe('the API', () => {
    it('creates, lists, changes and deletes webhooks of the caller org only; the secret is shown once', async () => {
      const tenant = await admin();
      const stranger = await admin();
      const created = await createWebhook(tenant, { url: receiver.url, eventTypes: ['session.status'], description: 'ops' });
      const got = await app.request(`/api/v1/webhooks/${created.id}`, { token: tenant.apiKey });
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ id: created.id, url: receiver.url, eventTypes: ['session.status'], enabled: true, description: 'ops', sessionId: null });
      expect(got.body.secret).toBeUndefined();
      expect((await app.request('/api/v1/webhooks', { token: tenant.apiKey })).body.data.map((w: { id: string }) => w.id)).toEqual([created.id]);

      const foreign = await app.request(`/api/v1/webhooks/${created.id}`, { token: stranger.apiKey });
      const unknown = await app.request('/api/v1/webhooks/01JB4T6R8S1V3W5X7Y9Z0A2B4C', { token: stranger.apiKey });
      expect(foreign.status).toBe(404);
      expect(foreign.text).toBe(unknown.text);

      const patched = await app.request(`/api/v1/webhooks/${created.id}`, {
        token: tenant.apiKey,
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ enabled: false, eventTypes: ['chat.updated', 'chat.deleted'], sessionId: tenant.sessionId }),
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ enabled: false, eventTypes: ['chat.updated', 'chat.deleted'], sessionId: tenant.sessionId });
      const otherSession = await app.request(`/api/v1/webhooks/${created.id}`, {
        token: tenant.apiKey,
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sessionId: stranger.sessionId }),
      });
      expect(otherSession.status).toBe(404);

      expect((await app.request(`/api/v1/webhooks/${created.id}`, { token: stranger.apiKey, method: 'DELETE' })).status).toBe(404);
      expect((await app.request(`/api/v1/webhooks/${created.id}`, { token: tenant.apiKey, method: 'DELETE' })).status).toBe(204);
      expect((await app.request(`/api/v1/webhooks/${created.id}`, { token: tenant.apiKey })).status).toBe(404);
    });

    it('needs the admin capability', async () => {
      const reader = await app.createTenant(['read', 'send', 'manage']);
      const list = await app.request('/api/v1/webhooks', { token: reader.apiKey });
      expect(list.status).toBe(403);
      expect(list.body.error).toMatchObject({ code: 'forbidden', details: { capability: 'admin' } });
    });

    it('rejects bad bodies with 400 naming the parameter', async () => {
      const tenant = await admin();
      const post = (body: unknown) =>
        app.request('/api/v1/webhooks', { token: tenant.apiKey, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      for (const [body, parameter] of [
        [{ url: receiver.url, eventTypes: [] }, 'eventTypes'],
        [{ url: receiver.url, eventTypes: ['chat.exploded'] }, 'eventTypes'],
        [{ url: 'ftp://127.0.0.1/x', eventTypes: ['chat.updated'] }, 'url'],
        [{ url: 'not a url', eventTypes: ['chat.updated'] }, 'url'],
        [{ url: 'http://user:pw@127.0.0.1/x', eventTypes: ['chat.updated'] }, 'url'],
        [{ eventTypes: ['chat.updated'] }, 'url'],
        [{ url: receiver.url, eventTypes: ['chat.updated'], colour: 'red' }, 'colour'],
      ] as const) {
        const response = await post(body);
        expect({ body, status: response.status, parameter: response.body.error.details.parameter }).toEqual({ body, status: 400, parameter });
      }
    });

    it('refuses URLs that reach private, loopback or link-local addresses outside WEBHOOK_ALLOWED_NETWORKS', async () => {
      const tenant = await admin();
      for (const url of [
        'http://10.0.0.5/hook',
        'http://192.168.1.20/hook',
        'http://172.16.0.1/hook',
        'http://169.254.169.254/latest/meta-data',
        'http://[::1]/hook',
        'http://[fe80::1]/hook',
        'http://[::ffff:10.0.0.1]/hook',
        'http://0.0.0.0/hook',
      ]) {
        const response = await app.request('/api/v1/webhooks', {
          token: tenant.apiKey,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ url, eventTypes: ['chat.updated'] }),
        });
        expect({ url, status: response.status, code: response.body.error?.code }).toEqual({ url, status: 400, code: 'invalid_argument' });
      }
      const created = await createWebhook(tenant, { url: receiver.url, eventTypes: ['chat.updated'] });
      const patched = await app.request(`/api/v1/webhooks/${created.id}`, {
        token: tenant.apiKey,
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: 'http://10.1.2.3/hook' }),
      });
      expect(patched.status).toBe(400);
    });
  });

  it('checks the address again at delivery time: a policy without the allow-list never connects to loopback', async () => {
    const sender = new WebhookSender(new NetworkPolicy([]), 2000);
    try {
      const byName = await sender.send({ url: receiver.url.replace('127.0.0.1', 'localhost'), headers: {}, body: '{}' });
      const literal = await sender.send({ url: receiver.url, headers: {}, body: '{}' });
      expect(byName).toMatchObject({ ok: false, status: null });
      expect(byName.error).toMatch(/private, loopback or link-local/);
      expect(literal.error).toMatch(/private, loopback or link-local/);
      expect(receiver.requests).toHaveLength(0);
      const allowed = await new WebhookSender(new NetworkPolicy(['127.0.0.0/8']), 2000).send({ url: receiver.url, headers: {}, body: '{}' });
      expect(allowed).toMatchObject({ ok: true, status: 200, excerpt: 'ok' });
    } finally {
      sender.close();
    }
  });
});

describe('Webhooks: a backlog larger than a batch', () => {
  let database: IsolatedDatabase;
  let app: TestApp;
  let receiver: WebhookReceiver;

  // One worker taking two attempts at a time, and idle workers that would look at the queue again only after ten minutes:
  // what is delivered within the test's wait was fetched because the worker's previous batch came back full.
  beforeAll(async () => {
    database = await isolatedDatabase();
    app = await TestApp.start({ ...ENV, DATABASE_URL: database.url, WEBHOOK_WORKERS: '1', WEBHOOK_BATCH_SIZE: '2', WEBHOOK_POLL_INTERVAL_MS: '600000' });
    receiver = await WebhookReceiver.start();
  });

  afterAll(async () => {
    await receiver?.close();
    await app?.close();
    await database?.drop();
  });

  /** A new tenant with a webhook for chat.updated at the receiver. */
  async function tenantWithWebhook(): Promise<Tenant> {
    const tenant = await app.createTenant(['read', 'admin']);
    await createWebhookOn(app, tenant, { url: receiver.url, eventTypes: ['chat.updated'] });
    return tenant;
  }

  it('is worked batch after batch without waiting for the polling interval in between, each event once', async () => {
    const tenant = await tenantWithWebhook();

    // Nine events in one transaction: five batches (2, 2, 2, 2, 1) for the one worker.
    const jids = Array.from({ length: 9 }, (_, index) => `62855555555${index}@s.whatsapp.net`);
    await app.insertChats(
      tenant.sessionId,
      jids.map((jid) => ({ jid, name: `backlog ${jid}` })),
    );
    await receiver.waitFor(() => receiver.ids().length === jids.length);
    expect(receiver.requests.map((request) => request.json.data.jid).sort()).toEqual([...jids].sort());
  });

  it('reads a backlog a bounded range of ids at a time, across ids no event took, each event once', async () => {
    const tenant = await tenantWithWebhook();
    const log = app.app.get(EventLogRepository);
    const ranges: bigint[] = [];
    const original = log.readRoutingAfter.bind(log);
    const read = jest.spyOn(log, 'readRoutingAfter').mockImplementation((afterId, upTo, limit, manager) => {
      ranges.push(upTo - afterId);
      return original(afterId, upTo, limit, manager);
    });
    try {
      const before = ['628566666660@s.whatsapp.net', '628566666661@s.whatsapp.net'];
      const after = ['628566666662@s.whatsapp.net', '628566666663@s.whatsapp.net'];
      await app.insertChats(
        tenant.sessionId,
        before.map((jid) => ({ jid, name: 'before the gap' })),
      );
      // 2,500 numbers taken by transactions that published nothing (rolled back): two and a half pages of ids without an event.
      await app.dataSource.query(`SELECT nextval('events_id_seq') FROM generate_series(1, 2500)`);
      await app.insertChats(
        tenant.sessionId,
        after.map((jid) => ({ jid, name: 'after the gap' })),
      );
      const jids = [...before, ...after];
      await receiver.waitFor(() => receiver.requests.filter((request) => jids.includes(request.json.data.jid)).length === jids.length);
      expect(
        receiver.requests
          .filter((request) => jids.includes(request.json.data.jid))
          .map((request) => request.json.data.jid)
          .sort(),
      ).toEqual(jids.sort());
      expect(ranges.length).toBeGreaterThan(2);
      expect(ranges.every((range) => range > 0n && range <= 1000n)).toBe(true);
    } finally {
      read.mockRestore();
    }
  });
});

describe('Webhooks: none enabled', () => {
  let database: IsolatedDatabase;
  let app: TestApp;
  let receiver: WebhookReceiver;

  // A database of its own: whether any org has an enabled webhook decides how the dispatcher works.
  beforeAll(async () => {
    database = await isolatedDatabase();
    app = await TestApp.start({ ...ENV, DATABASE_URL: database.url });
    receiver = await WebhookReceiver.start();
  });

  afterAll(async () => {
    await receiver?.close();
    await app?.close();
    await database?.drop();
  });

  const dispatchPosition = async (): Promise<bigint> =>
    BigInt((await app.dataSource.query(`SELECT event_id::text AS id FROM webhook_dispatch_position`))[0].id);
  const newestEvent = async (): Promise<bigint> => BigInt((await app.dataSource.query(`SELECT COALESCE(max(id), 0)::text AS id FROM events`))[0].id);

  it('moves the dispatch position without reading pages while no webhook is enabled, then delivers what follows the first one', async () => {
    const tenant = await app.createTenant(['read', 'admin']);
    const webhooks = app.app.get(WebhooksRepository);
    const pageRead = jest.spyOn(app.app.get(EventLogRepository), 'readRoutingAfter');
    const positionLocked = jest.spyOn(webhooks, 'lockDispatchPosition');
    try {
      // A disabled webhook is no subscriber.
      await createWebhookOn(app, tenant, { url: receiver.url, eventTypes: ['chat.updated'], enabled: false });
      await app.insertChats(tenant.sessionId, [
        { jid: '628577777770@s.whatsapp.net', name: 'before any webhook' },
        { jid: '628577777771@s.whatsapp.net', name: 'before any webhook' },
      ]);
      const newest = await newestEvent();
      await waitFor(async () => (await dispatchPosition()) >= newest);
      expect(pageRead).not.toHaveBeenCalled();
      expect(positionLocked).not.toHaveBeenCalled();

      await createWebhookOn(app, tenant, { url: receiver.url, eventTypes: ['chat.updated'] });
      await app.insertChats(tenant.sessionId, [{ jid: '628577777772@s.whatsapp.net', name: 'after the first webhook' }]);
      await receiver.waitFor(() => receiver.requests.length >= 1);
      expect(pageRead).toHaveBeenCalled();
      // The webhook enabled later gets only what came after it: nothing of the events the position moved past.
      await waitFor(async () => (await dispatchPosition()) >= (await newestEvent()));
      expect(receiver.requests.map((request) => request.json.data.jid)).toEqual(['628577777772@s.whatsapp.net']);
    } finally {
      pageRead.mockRestore();
      positionLocked.mockRestore();
    }
  });
});
