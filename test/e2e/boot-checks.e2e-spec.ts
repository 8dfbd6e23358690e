import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { SpawnedGateway } from '../support/spawned-gateway';

const DIST = join(__dirname, '..', '..', 'dist');

/** Runs a built entry point until it exits; its whole output. */
function runToExit(script: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(DIST, script)],
      { env: { PATH: process.env.PATH ?? '', SESSION_CAPACITY: '0', PORT: '0', HOST: '127.0.0.1', LOG_FORMAT: 'json', ...env }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

const KEY = 'ab'.repeat(32);
const CURSOR = 'c'.repeat(40);
/** A bound for a process's start on a loaded machine (not a timing assertion). */
const PROCESS_BOUND_MS = 120_000;

/** What `node dist/main.js` (the image's command) refuses at boot, over a real process and a real database. */
describe('boot checks of the built gateway', () => {
  jest.setTimeout(2 * PROCESS_BOUND_MS);
  const database = () => ({ DATABASE_URL: process.env.DATABASE_URL!, DATABASE_MIGRATE_ON_START: 'false' });

  it('NODE_ENV=production without CREDENTIALS_ENCRYPTION_KEY or CURSOR_SECRET: exits 1 naming both, before touching the database', async () => {
    // An unreachable database: the refusal must come first, not a connection error.
    const result = await runToExit('main.js', { NODE_ENV: 'production', DATABASE_URL: 'postgres://gateway@127.0.0.1:9/gateway' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('CREDENTIALS_ENCRYPTION_KEY is required with NODE_ENV=production');
    expect(result.stderr).toContain('CURSOR_SECRET is required with NODE_ENV=production');
    expect(result.stderr).toContain('ALLOW_SECRETS_IN_DATABASE=true');
    expect(result.stdout).not.toContain('listening on port');
  });

  it('NODE_ENV=production starts with both secrets set, or with the explicit opt-out', async () => {
    for (const env of <Record<string, string>[]>[{ CREDENTIALS_ENCRYPTION_KEY: KEY, CURSOR_SECRET: CURSOR }, { ALLOW_SECRETS_IN_DATABASE: 'true' }]) {
      const gateway = await SpawnedGateway.start({ ...database(), NODE_ENV: 'production', ...env }, PROCESS_BOUND_MS);
      try {
        expect((await fetch(`${gateway.baseUrl}/readyz`)).status).toBe(200);
      } finally {
        await gateway.stop();
      }
    }
  });

  it('the migration entry point runs under NODE_ENV=production with only DATABASE_URL (what the migration Job gets)', async () => {
    const result = await runToExit('migrate.js', { NODE_ENV: 'production', DATABASE_URL: process.env.DATABASE_URL! });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('no pending migrations');
  });

  it('AUTH_JWKS_URL over plain http to a non-loopback host: exits 1 with a message naming the variable', async () => {
    const result = await runToExit('main.js', {
      ...database(),
      AUTH_JWKS_URL: 'http://login.example.test/.well-known/jwks.json',
      AUTH_JWT_ISSUER: 'https://login.example.test/',
      AUTH_JWT_AUDIENCE: 'gateway',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('AUTH_JWKS_URL must be an https URL');
  });

  it('PORT=abc: one clear message', async () => {
    const result = await runToExit('main.js', { ...database(), PORT: 'abc' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual(['Invalid configuration:', '  - PORT must be an integer number (got "abc")']);
  });
});
