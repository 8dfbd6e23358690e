import type { Capability } from '../../src/common/capabilities';
import { SeamGateway } from '../support/seam-gateway';
import { TestApp, Tenant } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const ALL: Capability[] = ['read', 'send', 'manage', 'admin'];
const BOB = '+14155550102';

/**
 * Per-session send pacing through Update session (`sendPacing`), used by the pacer. Counts, not
 * clocks: with 1 a minute once the burst is spent, how many messages went tells the burst; the
 * queue's expected send times (one schedule, computed at one instant) tell the spacing.
 */
describe('Send pacing per session', () => {
  let gateway: SeamGateway;
  let app: TestApp;

  beforeAll(async () => {
    gateway = await SeamGateway.start({ SESSION_CAPACITY: '20', SEND_RATE_PER_MINUTE: '1', SEND_BURST: '1', SEND_JITTER_MS: '0', SEND_POLL_MS: '50' });
    app = gateway.app;
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const patch = (tenant: Tenant, body: unknown, token = tenant.apiKey, sessionId = tenant.sessionId) =>
    app.request(`/api/v1/sessions/${sessionId}`, { token, method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const post = (tenant: Tenant, text: string) =>
    app.request(`/api/v1/sessions/${tenant.sessionId}/messages`, {
      token: tenant.apiKey,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: BOB, text }),
    });

  const connected = () => gateway.connected();

  it("the session's own burst and rate: 3 go at once, the rest wait one interval apart in order; a faster rate then sends them, in order", async () => {
    const { tenant, socket } = await connected();
    const updated = await patch(tenant, { sendPacing: { ratePerMinute: 1, burst: 3 } });
    expect(updated.status).toBe(200);
    expect(updated.body.sendPacing).toEqual({ ratePerMinute: 1, burst: 3, jitterMs: 0 });

    const texts = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'];
    const accepted: any[] = [];
    for (const text of texts) accepted.push((await post(tenant, text)).body);
    await waitFor(() => socket.sent.length >= 3 || undefined, 30_000);
    // The burst of 3 went (the default burst is 1); the rest wait their minute.
    const page = await app.request(`/api/v1/sessions/${tenant.sessionId}/chats/${accepted[0].chatId}/messages`, { token: tenant.apiKey });
    expect(socket.sent.map((sent) => sent.content.text)).toEqual(['m1', 'm2', 'm3']);
    const queued = accepted.slice(3).map((message) => page.body.data.find((listed: any) => listed.id === message.id).queue);
    expect(queued.map((queue: any) => queue.position)).toEqual([0, 1, 2]);
    // One interval (60 000 ms at 1 a minute) between consecutive messages of the schedule.
    expect([queued[1].expectedSendAt - queued[0].expectedSendAt, queued[2].expectedSendAt - queued[1].expectedSendAt]).toEqual([60_000, 60_000]);

    // Faster: the pacer reads the session's settings on its next claim.
    expect((await patch(tenant, { sendPacing: { ratePerMinute: 6000 } })).body.sendPacing).toEqual({ ratePerMinute: 6000, burst: 3, jitterMs: 0 });
    await waitFor(() => socket.sent.length === 6 || undefined, 90_000);
    expect(socket.sent.map((sent) => sent.content.text)).toEqual(texts);

    const reset = await patch(tenant, { sendPacing: null });
    expect([reset.status, reset.body.sendPacing]).toEqual([200, null]);
  }, 150_000);

  it("validates sendPacing (400), needs manage (403 for a send-only key), another org's session is the same 404", async () => {
    const tenant = await app.createTenant(ALL);
    for (const sendPacing of [
      { ratePerMinute: 0 },
      { ratePerMinute: 6001 },
      { burst: 0 },
      { burst: 1.5 },
      { jitterMs: -1 },
      { jitterMs: 600_001 },
      { ratePerMinute: '10' },
      { other: 1 },
      'fast',
      [],
    ]) {
      const response = await patch(tenant, { sendPacing });
      expect([response.status, response.body.error?.code]).toEqual([400, 'invalid_argument']);
    }
    const fresh = await app.request(`/api/v1/sessions/${tenant.sessionId}`, { token: tenant.apiKey });
    expect(fresh.body.sendPacing).toBeNull();

    const sender = await app.apiKeys.create(tenant.orgId, ['read', 'send'], 'sender');
    const forbidden = await patch(tenant, { sendPacing: { burst: 2 } }, sender.key);
    expect([forbidden.status, forbidden.body.error.code]).toEqual([403, 'forbidden']);

    const other = await app.createTenant(ALL);
    const foreign = await patch(tenant, { sendPacing: { burst: 2 } }, tenant.apiKey, other.sessionId);
    const unknown = await patch(tenant, { sendPacing: { burst: 2 } }, tenant.apiKey, '01J9ZX8K2QHV0M3T6R7P4N5W8C');
    expect(foreign.status).toBe(404);
    expect(foreign.text).toBe(unknown.text);
    expect((await app.request(`/api/v1/sessions/${other.sessionId}`, { token: other.apiKey })).body.sendPacing).toBeNull();
  }, 60_000);
});
