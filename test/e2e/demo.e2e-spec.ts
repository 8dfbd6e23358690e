import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { IsolatedDatabase, isolatedDatabase } from '../support/isolated-database';
import { freePort } from '../support/throwaway-postgres';

/**
 * `npm run demo` as a new user runs it: the built dist/demo.js (the gateway and the WhatsApp
 * simulator together; the session links by a simulated QR scan), its printed curl command, the data it serves.
 */
describe('demo mode (dist/demo.js)', () => {
  let child: ChildProcess;
  let output = '';
  let database: IsolatedDatabase;

  beforeAll(async () => {
    // The demo holds its session's connection: a database of its own, so it claims no other test's session.
    database = await isolatedDatabase();
    const port = await freePort();
    child = spawn(process.execPath, [join(__dirname, '..', '..', 'dist', 'demo.js')], {
      env: { ...process.env, DATABASE_URL: database.url, SESSION_CAPACITY: '5', PORT: String(port), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const deadline = Date.now() + 90_000;
    while (!output.includes('Try it:') && Date.now() < deadline && child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 120_000);
  afterAll(async () => {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    await database?.drop();
  });

  it('prints Swagger UI, a session, a read key and a ready curl command that returns the sample chats', async () => {
    expect(output).toContain('/docs');
    expect(output).toMatch(/Phone:\s+\+\d+, simulated; act as it through http:\/\/127\.0\.0\.1:\d+/);
    const key = /API key:\s+(wgk_\S+)/.exec(output)?.[1];
    const url = /curl -s "([^"]+)"/.exec(output)?.[1];
    expect(key).toBeDefined();
    expect(url).toBeDefined();

    const response = await fetch(url!.replace('limit=5', 'limit=200'), { headers: { authorization: `Bearer ${key}` } });
    expect(response.status).toBe(200);
    const { data, nextCursor } = (await response.json()) as { data: any[]; nextCursor: string | null };
    expect(nextCursor).toBeNull();
    expect(data.length).toBeGreaterThanOrEqual(15);
    expect(new Set(data.map((chat) => chat.type))).toEqual(new Set(['dm', 'group', 'broadcast', 'newsletter']));
    expect(data.slice(0, 2).every((chat) => chat.pinned)).toBe(true);
    expect(data.some((chat) => chat.archived)).toBe(true);
    expect(data.some((chat) => chat.mutedUntil === 253402300799000)).toBe(true);
    expect(data.find((chat) => chat.name === 'Charlotte (London office)')?.unreadCount).toBe(1);
    expect(data.find((chat) => chat.name === 'Family')?.unreadCount).toBe(14);
  });
});
