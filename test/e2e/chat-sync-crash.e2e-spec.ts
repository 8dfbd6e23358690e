import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { loadBaileys } from '../../src/whatsapp-sync/sync/baileys';
import { CRASH_T0, crashHistoryBatch, crashJid } from '../support/crash-batch';
import { BaileysPhone } from '../support/baileys-phone';
import { listAllChats, syncSink } from '../support/sync-helpers';
import { TestApp } from '../support/test-app';

const COUNT = 12_000;

describe('a crash in the middle of a batch', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await TestApp.start();
  });
  afterAll(async () => {
    await app.close();
  });

  it('after the process is killed mid-batch, restart and re-delivery converge: nothing lost, nothing doubled', async () => {
    const tenant = await app.createTenant();
    const storedCount = async () => Number((await app.dataSource.query('SELECT count(*) AS n FROM chats WHERE session_id = $1', [tenant.sessionId]))[0].n);

    // Another process applies a large history batch, 200 chats per transaction, and is killed
    // (SIGKILL, no cleanup) once some of it is committed and the rest is not.
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'support', 'sync-crash-child.ts'), tenant.sessionId, String(COUNT)],
      {
        cwd: join(__dirname, '..', '..'),
        env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'silent', SYNC_CHUNK_SIZE: '200' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    // Until the child's first transaction commits, however long its start takes on a loaded machine
    // (30 s were not enough at load 11); a child that ends without writing fails at once, and one
    // that never writes is bounded by the test's timeout.
    while ((await storedCount()) === 0) {
      if (child.exitCode !== null) throw new Error(`the child ended without writing: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    child.kill('SIGKILL');
    await expect(exited).resolves.toBe('SIGKILL');
    const partial = await storedCount();
    expect(output).not.toContain('done');
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(COUNT);

    // "Restart": this process re-delivers the same batch, then live events continue.
    const sink = syncSink(app);
    await sink.handle(tenant.sessionId, crashHistoryBatch(await loadBaileys(), COUNT));
    const phone = await BaileysPhone.create(sink, tenant.sessionId);
    await phone.message(crashJid(1), { ts: CRASH_T0 + 10 });

    const chats = await listAllChats(app, tenant);
    expect(chats).toHaveLength(COUNT);
    expect(new Set(chats.map((chat) => chat.jid)).size).toBe(COUNT);
    expect(chats.slice(0, 4).map((chat) => [chat.jid, chat.pinned])).toEqual([
      [crashJid(2), true],
      [crashJid(1), true],
      [crashJid(0), true],
      [crashJid(3), false],
    ]);
    const byJid = new Map(chats.map((chat) => [chat.jid, chat]));
    for (const i of [0, 1, 7, 57, 199, 200, 201, 4321, COUNT - 1]) {
      expect(byJid.get(crashJid(i))).toMatchObject({
        type: i % 25 === 0 ? 'group' : 'dm',
        name: i % 25 === 0 ? `Group ${i}` : `Person ${i}`,
        unreadCount: (i % 4) + (i === 1 ? 1 : 0),
        archived: i % 50 === 7,
        lastMessageAt: i === 1 ? (CRASH_T0 + 10) * 1000 : (CRASH_T0 - i) * 1000,
      });
    }
    const totalUnread = chats.reduce((sum, chat) => sum + chat.unreadCount, 0);
    expect(totalUnread).toBe(Array.from({ length: COUNT }, (_, i) => i % 4).reduce((a, b) => a + b, 0) + 1);
    // The messages the history carried (one per chat) and the live one: each stored once.
    const [{ n, keys }] = await app.dataSource.query(
      'SELECT count(*)::int AS n, count(DISTINCT (chat_id, wa_id))::int AS keys FROM messages WHERE session_id = $1 AND ts IS NOT NULL',
      [tenant.sessionId],
    );
    expect({ n, keys }).toEqual({ n: COUNT + 1, keys: COUNT + 1 });
    // A bound for a stuck run: a child process's start and 12,000 chats written twice, on a loaded machine.
  }, 240_000);
});
