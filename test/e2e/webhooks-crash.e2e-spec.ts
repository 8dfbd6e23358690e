import { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { IsolatedDatabase, isolatedDatabase } from '../support/isolated-database';
import { TestApp } from '../support/test-app';
import { forkTsScript } from '../support/ts-process';
import { waitFor } from '../support/wait-for';
import { WebhookReceiver } from '../support/webhook-receiver';

const ENV = {
  WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8',
  // An attempt's job expires after 2 x 2 s + 5 s; supervision looks every second.
  WEBHOOK_TIMEOUT_MS: '2000',
  JOB_QUEUE_MAINTENANCE_SECONDS: '1',
  EVENTS_POLL_INTERVAL_MS: '200',
};

/** A gateway replica in its own process (test/support/replica-process.ts). */
async function startReplica(env: Record<string, string>): Promise<ChildProcess> {
  const child = forkTsScript('test/support/replica-process.ts', env);
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  await Promise.race([once(child, 'message'), once(child, 'exit').then(() => Promise.reject(new Error(`replica exited: ${stderr}`)))]);
  return child;
}

describe('Webhook delivery when the delivering replica dies', () => {
  let database: IsolatedDatabase;
  let api: TestApp;
  let receiver: WebhookReceiver;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    database = await isolatedDatabase();
    // This process serves the API and delivers nothing; the replicas below deliver.
    api = await TestApp.start({ ...ENV, DATABASE_URL: database.url, WEBHOOK_WORKERS: '0' });
    receiver = await WebhookReceiver.start();
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await receiver?.close();
    await api?.close();
    await database?.drop();
  });

  it('is delivered again by another replica after a SIGKILL mid-delivery, with the same webhook-id', async () => {
    const env = { ...ENV, DATABASE_URL: database.url, WEBHOOK_WORKERS: '1' };
    const first = await startReplica(env);
    children.push(first);
    const tenant = await api.createTenant(['read', 'admin']);
    const created = await api.request('/api/v1/webhooks', {
      token: tenant.apiKey,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, eventTypes: ['chat.updated'] }),
    });
    expect(created.status).toBe(201);
    // The first attempt is held open: the replica sending it is killed before it hears back.
    receiver.answer = (_request, attempt) => (attempt === 1 ? 'hold' : 200);

    await api.insertChats(tenant.sessionId, [{ jid: '6289000000001@s.whatsapp.net', name: 'Crash' }]);
    const [held] = await receiver.waitFor(() => receiver.requests.length >= 1 && receiver.requests);
    first.kill('SIGKILL');
    await once(first, 'exit');

    const second = await startReplica(env);
    children.push(second);
    const [, again] = await receiver.waitFor(() => receiver.requests.length >= 2 && receiver.requests, 40_000);
    expect(again.id).toBe(held.id);
    expect(again.body).toBe(held.body);

    const deliveries = await waitFor(async () => {
      const response = await api.request(`/api/v1/webhooks/${created.body.id}/deliveries`, { token: tenant.apiKey });
      return response.body.data[0]?.status === 'delivered' && response.body.data;
    });
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ eventId: held.id, status: 'delivered', responseStatus: 200 });
    expect(receiver.requests).toHaveLength(2);
    // Two replica processes start (each compiles its TypeScript) and a job expires: the run's 120 s bound, not 60 s.
  });
});
