import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TestApp } from '../support/test-app';
import { freePort } from '../support/throwaway-postgres';

const run = promisify(execFile);
const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

async function cli(args: string[], env: Record<string, string | undefined> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('operator CLI (npm run cli -- ...), the built dist/cli.js', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await TestApp.start();
  });
  afterAll(async () => {
    await app.close();
  });

  it('creates a key (--json), which then works over HTTP, and revokes it', async () => {
    const org = `org-cli-${Date.now()}`;
    const session = await cli(['session', 'create', '--org', org, '--name', 'Support line', '--json']);
    expect(session.code).toBe(0);
    const { id: sessionId } = JSON.parse(session.stdout);

    const created = await cli(['api-key', 'create', '--org', org, '--capabilities', 'read,send', '--name', 'ci', '--json']);
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout);
    expect(Object.keys(key).sort()).toEqual(['capabilities', 'id', 'key', 'orgId']);
    expect(key).toMatchObject({ orgId: org, capabilities: ['read', 'send'] });
    expect(key.key).toMatch(/^wgk_/);

    expect((await app.request(`/api/v1/sessions/${sessionId}/chats`, { token: key.key })).status).toBe(200);

    const revoked = await cli(['api-key', 'revoke', key.id]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`revoked API key ${key.id}`);
    const again = await cli(['api-key', 'revoke', key.id]);
    expect(again.code).toBe(1);
  }, 120_000);

  it('prints the key once in human form, with a warning to store it', async () => {
    const created = await cli(['api-key', 'create', '--org', 'org-human', '--capabilities', 'read']);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/wgk_[0-9A-Z]{26}_[A-Za-z0-9_-]{43}/);
    expect(created.stdout).toContain('shown once');
  });

  it.each([
    [['api-key', 'create', '--capabilities', 'read'], '--org is required'],
    [['api-key', 'create', '--org', 'o'], '--capabilities is required'],
    [['api-key', 'create', '--org', 'o', '--capabilities', 'read,fly'], 'unknown capabilities: fly'],
    [['api-key', 'create', '--org', 'o', '--capabilities', 'read', '--bogus'], "Unknown option '--bogus'"],
    [['api-key', 'revoke'], 'exactly one key id'],
    [['frobnicate'], 'unknown command: frobnicate'],
  ])('rejects %j with exit code 2 and a clear message', async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('Usage: npm run cli');
  });

  it('checks its arguments before starting PostgreSQL: a typo starts no database', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gw-embedded-'));
    try {
      const result = await cli(['api-key', 'create', '--org', 'o', '--capabilities', 'read,fly'], {
        DATABASE_URL: '',
        EMBEDDED_POSTGRES_DIR: join(dataDir, 'pg'),
        EMBEDDED_POSTGRES_PORT: String(await freePort()),
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('unknown capabilities: fly');
      expect(result.stderr).not.toContain('PostgreSQL');
      expect(existsSync(join(dataDir, 'pg'))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('reports a bad configuration value clearly', async () => {
    const result = await cli(['api-key', 'create', '--org', 'o', '--capabilities', 'read'], { DATABASE_POOL_MAX: 'lots' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Invalid configuration');
    expect(result.stderr).toContain('DATABASE_POOL_MAX');
  });

  it('with no DATABASE_URL, runs a real embedded PostgreSQL in the configured folder', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gw-embedded-'));
    // As root, PostgreSQL runs as the `postgres` user, which must be able to reach the folder.
    chmodSync(dataDir, 0o755);
    try {
      const result = await cli(['api-key', 'create', '--org', 'o', '--capabilities', 'read', '--json'], {
        DATABASE_URL: '',
        EMBEDDED_POSTGRES_DIR: join(dataDir, 'pg'),
        EMBEDDED_POSTGRES_PORT: String(await freePort()),
      });
      expect(result.stderr).toContain('embedded PostgreSQL listening');
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout).orgId).toBe('o');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
