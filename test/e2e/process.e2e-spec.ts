import { connect, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseApiKey } from '../../src/auth/api-keys/api-key-token';
import { SpawnedGateway } from '../support/spawned-gateway';
import { TestApp, Tenant } from '../support/test-app';

const SHUTDOWN_DELAY_MS = 1500;
const SHUTDOWN_GRACE_MS = 8000;
/** How long after readiness turns false the "load balancer" keeps sending (endpoint propagation). */
const PROPAGATION_MS = 300;
const LOAD_WORKERS = 4;
/** Bounds on the load: it stops by itself even if the gateway misbehaves. */
const LOAD_MAX_MS = 10_000;
const LOAD_MAX_FAILURES = 50;

/** The built gateway as its own process: what its logs say, and how it shuts down. */
describe('node dist/main.js', () => {
  let tenant: Tenant;
  let gateway: SpawnedGateway;

  beforeAll(async () => {
    const helper = await TestApp.start();
    tenant = await helper.createTenant();
    await helper.insertChats(tenant.sessionId, [{ name: 'a' }, { name: 'b' }]);
    await helper.close();
    gateway = await SpawnedGateway.start({
      DATABASE_URL: process.env.DATABASE_URL!,
      DATABASE_MIGRATE_ON_START: 'false',
      SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
      SHUTDOWN_GRACE_MS: String(SHUTDOWN_GRACE_MS),
      TRUST_PROXY: 'loopback',
    });
  }, 40_000);

  afterAll(async () => {
    await gateway?.stop();
  });

  const chatsUrl = () => `${gateway.baseUrl}/api/v1/sessions/${tenant.sessionId}/chats`;

  describe('request log', () => {
    it('writes one JSON line per request with method, route, status, duration, request id, org id and key id, and never the key', async () => {
      const response = await fetch(`${chatsUrl()}?limit=1`, {
        headers: { authorization: `Bearer ${tenant.apiKey}`, 'x-forwarded-for': '203.0.113.7', cookie: 'session=very-secret-cookie' },
      });
      expect(response.status).toBe(200);
      const requestId = response.headers.get('x-request-id');
      const forged = `wgk_01J9ZX8K2QHV0M3T6R7P4N5W8C_${'A'.repeat(43)}`;
      expect((await fetch(chatsUrl(), { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
      await sleep(100);

      const lines = gateway.logLines().filter((line) => line.msg === 'request completed' && line.req?.id === requestId);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toEqual(
        expect.objectContaining({
          level: 30,
          req: { id: requestId, method: 'GET', path: `/api/v1/sessions/${tenant.sessionId}/chats`, ip: '203.0.113.7' },
          route: '/api/v1/sessions/:session/chats',
          res: { statusCode: 200 },
          durationMs: expect.any(Number),
          orgId: tenant.orgId,
          keyId: tenant.apiKeyId,
        }),
      );
      const unauthenticated = gateway.logLines().find((line) => line.msg === 'request completed' && line.res?.statusCode === 401);
      expect(unauthenticated).toMatchObject({ level: 40, route: '/api/v1/sessions/:session/chats' });
      expect(unauthenticated).not.toHaveProperty('orgId');

      const secret = parseApiKey(tenant.apiKey)!.secret;
      for (const needle of [tenant.apiKey, secret, forged, 'very-secret-cookie', 'Bearer']) {
        expect(gateway.stdout).not.toContain(needle);
        expect(gateway.stderr).not.toContain(needle);
      }
    });

    it('keeps probe and scrape requests out of the log while they succeed', async () => {
      const probe = await fetch(`${gateway.baseUrl}/healthz`);
      const id = probe.headers.get('x-request-id');
      await fetch(`${gateway.baseUrl}/readyz`);
      await sleep(100);
      expect(gateway.logLines().filter((line) => line.req?.id === id)).toEqual([]);
      expect(gateway.logLines().filter((line) => /^\/(healthz|readyz)$/.test(line.req?.path ?? ''))).toEqual([]);
    });
  });

  describe('SIGTERM', () => {
    interface Outcome {
      ok: number;
      failures: string[];
    }

    /** One worker of the steady stream: sends requests back to back until told to stop. */
    async function worker(shouldStop: () => boolean, outcome: Outcome): Promise<void> {
      const giveUpAt = Date.now() + LOAD_MAX_MS;
      while (!shouldStop() && Date.now() < giveUpAt && outcome.failures.length < LOAD_MAX_FAILURES) {
        try {
          const response = await fetch(chatsUrl(), { headers: { authorization: `Bearer ${tenant.apiKey}` } });
          const body = await response.text();
          if (response.status === 200) outcome.ok++;
          else outcome.failures.push(`${response.status} ${body.slice(0, 200)}`);
        } catch (error) {
          outcome.failures.push(String((error as Error).cause ?? error));
        }
      }
    }

    /** Sends headers now, the body later: a request in flight for as long as the test wants. */
    function startSlowRequest(): { socket: Socket; finish: () => void; response: Promise<string> } {
      const body = '{"slow":true}';
      const socket = connect(gateway.port, '127.0.0.1');
      socket.write(`POST /api/v1/slow-upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString('utf8')));
      const response = new Promise<string>((resolve, reject) => {
        socket.on('close', () => resolve(received));
        socket.on('error', reject);
      });
      return { socket, finish: () => socket.write(body), response };
    }

    /** True once a new TCP connection is refused: the server has stopped accepting. */
    async function refusesConnections(): Promise<boolean> {
      return new Promise((resolve) => {
        const probe = connect(gateway.port, '127.0.0.1');
        probe.once('connect', () => {
          probe.destroy();
          resolve(false);
        });
        probe.once('error', () => resolve(true));
      });
    }

    it('keeps serving through the delay, finishes in-flight requests, and exits 0 within the grace period with zero failed requests', async () => {
      const outcome: Outcome = { ok: 0, failures: [] };
      let stopAt = Infinity;
      const shouldStop = () => Date.now() >= stopAt;
      const workers = Array.from({ length: LOAD_WORKERS }, () => worker(shouldStop, outcome));
      await sleep(400);
      const okBeforeSignal = outcome.ok;

      // The load balancer: polls readiness and stops routing to this pod shortly after it turns false.
      let readinessFalseAt: number | undefined;
      const watcher = (async () => {
        const giveUpAt = Date.now() + LOAD_MAX_MS;
        while (readinessFalseAt === undefined && Date.now() < giveUpAt) {
          const response = await fetch(`${gateway.baseUrl}/readyz`).catch(() => undefined);
          if (response?.status === 503) readinessFalseAt = Date.now();
          await response?.text();
          if (readinessFalseAt === undefined) await sleep(50);
        }
        stopAt = (readinessFalseAt ?? Date.now()) + PROPAGATION_MS;
      })();

      const slow = startSlowRequest();
      await sleep(50);
      const signalledAt = Date.now();
      gateway.child.kill('SIGTERM');
      await watcher;
      await Promise.all(workers);
      const okAtStop = outcome.ok;

      // Past the delay the server refuses new connections, while the slow request is still in flight.
      const refusalDeadline = Date.now() + LOAD_MAX_MS;
      while (!(await refusesConnections()) && Date.now() < refusalDeadline) await sleep(50);
      const refusedAfterMs = Date.now() - signalledAt;
      slow.finish();
      const slowResponse = await slow.response;

      const exit = await gateway.exited;
      const exitedAfterMs = Date.now() - signalledAt;

      expect(outcome.failures).toEqual([]);
      expect(readinessFalseAt).toBeDefined();
      expect(okBeforeSignal).toBeGreaterThan(0);
      expect(okAtStop).toBeGreaterThan(okBeforeSignal);
      expect(readinessFalseAt! - signalledAt).toBeLessThan(SHUTDOWN_DELAY_MS);
      expect(refusedAfterMs).toBeGreaterThanOrEqual(SHUTDOWN_DELAY_MS - 50);
      expect(slowResponse).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
      expect(slowResponse).toMatch(/\r\nConnection: close\r\n/i);
      expect(slowResponse).toContain('{"error":{"code":"not_found"');
      expect(exit).toEqual({ code: 0, signal: null });
      expect(exitedAfterMs).toBeLessThan(SHUTDOWN_GRACE_MS);
      const messages = gateway.logLines().map((line) => line.msg);
      expect(messages).toEqual(
        expect.arrayContaining([expect.stringMatching(/^SIGTERM: readiness is now false/), expect.stringMatching(/^shutdown complete in \d+ ms$/)]),
      );
    }, 30_000);
  });
});
