import { spawn } from 'node:child_process';
import { createServer, Server } from 'node:net';
import { join } from 'node:path';
import { TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

/** `node dist/main.js` with its whole output, until it exits or `until(stdout)` holds. */
function runGateway(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', SESSION_CAPACITY: '0', DATABASE_URL: process.env.DATABASE_URL!, DATABASE_MIGRATE_ON_START: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output, exited };
}

/** What a new user meets on the first `npm start` and first calls (issue: "First run"). */
describe('first run', () => {
  it('the start banner is the last thing printed, after a quiet start-up (no line per module or route)', async () => {
    const gateway = runGateway({ LOG_FORMAT: 'pretty', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1', SHUTDOWN_DELAY_MS: '0' });
    try {
      await waitFor(() => gateway.output.stdout.includes('npm run cli -- api-key create'), 120_000);
      const port = Number(/listening on http:\/\/localhost:(\d+)/.exec(gateway.output.stdout)![1]);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      gateway.child.kill('SIGTERM');
      expect(await gateway.exited).toBe(0);
    } finally {
      gateway.child.kill('SIGKILL');
    }
    const lines = gateway.output.stdout.split('\n').filter((line) => line.trim() !== '');
    const bannerStart = lines.findIndex((line) => line.startsWith('WhatsApp Gateway is listening on'));
    const bannerEnd = lines.findIndex((line) => line.includes('npm run cli -- api-key create'));
    const before = lines.slice(0, bannerStart);
    // Before it: a handful of lines (a warning about the generated key, "listening on port"), none of Nest's boot chatter.
    expect(before.length).toBeLessThanOrEqual(4);
    expect(before.filter((line) => /Mapped \{|dependencies initialized|RoutesResolver|Nest application/.test(line))).toEqual([]);
    expect(before.some((line) => line.includes('listening on port'))).toBe(true);
    // After it: nothing until the shutdown the test asked for.
    expect(lines[bannerEnd + 1]).toMatch(/SIGTERM: readiness is now false/);
  }, 240_000);

  it('a port already in use: one clear message, no EADDRINUSE stack', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const gateway = runGateway({ LOG_FORMAT: 'json', LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1' });
      expect(await gateway.exited).toBe(1);
      expect(gateway.output.stderr.trim().split('\n')).toEqual([
        `Cannot listen on 127.0.0.1:${port}: another program is already using it. Stop it, or set PORT to a free port.`,
      ]);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  }, 240_000);

  it('{"name":123} on Create session: a message about the type, not the length', async () => {
    const app = await TestApp.start();
    try {
      const tenant = await app.createTenant(['manage']);
      const response = await app.request('/api/v1/sessions', {
        token: tenant.apiKey,
        method: 'POST',
        body: JSON.stringify({ name: 123 }),
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: { code: 'invalid_argument', message: 'name must be a string', details: { parameter: 'name' } } });
    } finally {
      await app.close();
    }
  });
});
