import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MUTED_FOREVER } from '../../src/chats/chat-type';
import { CommandFailedError, runCommand } from '../../src/cli/commands';
import { BaileysPhone } from '../support/baileys-phone';
import { comparable, listAllChats, syncSink } from '../support/sync-helpers';
import { TestApp, Tenant } from '../support/test-app';
import { CredentialCipher } from '../../src/whatsapp-sync/auth-state/credential-cipher';
import { mediaKeyContext } from '../../src/whatsapp-sync/sync/message-sync.writer';
import { randomBytes } from 'node:crypto';

const FIXTURE = join(__dirname, '..', 'fixtures', 'sync', 'recording.jsonl');
const T0 = 1_719_000_000;
const ms = (seconds: number) => seconds * 1000;

describe('record and replay', () => {
  let app: TestApp;
  let recordDir: string;

  beforeAll(async () => {
    recordDir = mkdtempSync(join(tmpdir(), 'sync-record-'));
    app = await TestApp.start({ SYNC_RECORD_DIR: recordDir });
  });
  afterAll(async () => {
    await app.close();
    rmSync(recordDir, { recursive: true, force: true });
  });

  async function replay(sessionId: string, file: string): Promise<string[]> {
    const out: string[] = [];
    const code = await runCommand(app.app, ['sync', 'replay', '--session', sessionId, file], (line) => out.push(line));
    expect(code).toBe(0);
    return out;
  }

  it('replays the fixture recording into a session: the copy WhatsApp had', async () => {
    const tenant = await app.createTenant();
    const out = await replay(tenant.sessionId, FIXTURE);
    expect(out).toEqual([`applied 31 events from ${FIXTURE} to session ${tenant.sessionId}`]);
    const chats = await listAllChats(app, tenant);
    const row = (jid: string, type: string, name: string | null, pinned: boolean, lastMessageAt: number, unreadCount: number, extra: object = {}) => ({
      jid,
      type,
      name,
      pinned,
      lastMessageAt,
      unreadCount,
      archived: false,
      mutedUntil: null,
      ...extra,
    });
    expect(chats.map(comparable)).toEqual([
      row('120363025000000001@g.us', 'group', 'Family', true, ms(T0 + 40), 6, { mutedUntil: MUTED_FOREVER }),
      row('15551230001@s.whatsapp.net', 'dm', 'Alice', true, ms(T0 + 5), 0),
      row('15551230006@s.whatsapp.net', 'dm', null, false, ms(T0 + 70), 0),
      row('15551230004@s.whatsapp.net', 'dm', 'Dave Miller', false, ms(T0 + 60), 1),
      row('15551230003@s.whatsapp.net', 'dm', 'Carol', false, ms(T0 + 50), 2),
      row('15551230005@s.whatsapp.net', 'dm', 'Erin', false, ms(T0 + 30), 1, { mutedUntil: ms(T0 + 8 * 3600) }),
      row('120363300000000001@newsletter', 'newsletter', 'Gateway News', false, ms(T0 - 300), 0),
      row('120363025000000002@g.us', 'group', 'Work (Q3)', false, ms(T0 - 600), 0),
      row('15551230002@s.whatsapp.net', 'dm', 'Bob', false, ms(T0 - 3600), 1),
      row('120363025000000003@g.us', 'group', 'Old group', false, ms(T0 - 864_000), 0, { archived: true }),
    ]);

    // Replaying the same recording again changes nothing: nothing doubled, nothing revived.
    await replay(tenant.sessionId, FIXTURE);
    await expect(listAllChats(app, tenant)).resolves.toEqual(chats);
  });

  it('records what a session receives, and the recording replays into the same copy', async () => {
    const live = await app.createTenant();
    const phone = await BaileysPhone.create(syncSink(app), live.sessionId);
    await phone.historySync({
      conversations: [
        { id: '15557770001@s.whatsapp.net', displayName: 'Ann', conversationTimestamp: T0, unreadCount: 4, pinned: T0 - 10, muteEndTime: T0 + 60 },
        { id: '120363777000000001@g.us', name: 'Club', conversationTimestamp: T0 - 5, archived: true },
        { id: '207770000000001@lid', pnJid: '15557770002@s.whatsapp.net', displayName: 'Ben', conversationTimestamp: T0 - 9 },
      ],
    });
    await phone.message('15557770003@s.whatsapp.net', { ts: T0 + 1, pushName: 'Cy' });
    await phone.appState({ mute: -1 }, '120363777000000001@g.us');
    await phone.appState(
      { markRead: false, lastMessages: [{ key: { remoteJid: '15557770001@s.whatsapp.net', id: 'x', fromMe: false }, messageTimestamp: T0 }] },
      '15557770001@s.whatsapp.net',
    );
    const file = join(recordDir, `${live.sessionId}.jsonl`);
    await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').includes('"unreadCount":-1'));
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.event)).toContain('messaging-history.set');
    expect(lines.every((line) => Object.keys(line).join() === 'event,data')).toBe(true);
    // The history's 64-bit timestamps are recorded as the decimal strings protobufjs' JSON gives.
    const history = lines.find((line) => line.event === 'messaging-history.set');
    expect(history.data.chats[0].conversationTimestamp).toBe(String(T0));

    const replayed = await app.createTenant();
    await replay(replayed.sessionId, file);
    const expected = (await listAllChats(app, live)).map(comparable);
    expect(expected).toHaveLength(4);
    await expect(listAllChats(app, replayed).then((chats) => chats.map(comparable))).resolves.toEqual(expected);
  });

  it('records the messages too (media keys and all), and the recording replays into the same pages', async () => {
    const live = await app.createTenant();
    const phone = await BaileysPhone.create(syncSink(app), live.sessionId);
    const ann = '15557770011@s.whatsapp.net';
    const image = {
      mimetype: 'image/jpeg',
      fileLength: 99,
      mediaKey: randomBytes(32),
      fileEncSha256: randomBytes(32),
      directPath: '/v/t62/x',
      width: 4,
      height: 3,
      caption: 'pic',
    };
    await phone.historySync({
      conversations: [
        {
          id: ann,
          conversationTimestamp: T0,
          messages: [
            { id: 'I1', ts: T0, fromMe: true, status: 2, content: { imageMessage: image } },
            { id: 'T1', ts: T0 - 1, text: 'hi' },
          ],
        },
      ],
    });
    await phone.message(ann, { id: 'T2', ts: T0 + 1, text: 'typo' });
    await phone.message(ann, {
      id: 'E2',
      ts: T0 + 2,
      content: {
        protocolMessage: { type: 14, key: { remoteJid: ann, fromMe: false, id: 'T2' }, editedMessage: { conversation: 'fixed' }, timestampMs: ms(T0 + 2) },
      },
    });
    await phone.message(ann, {
      id: 'R1',
      ts: T0 + 3,
      content: { reactionMessage: { key: { remoteJid: ann, fromMe: true, id: 'I1' }, text: '🎉', senderTimestampMs: ms(T0 + 3) } },
    });
    await phone.message(ann, { id: 'V1', ts: T0 + 4, content: { protocolMessage: { type: 0, key: { remoteJid: ann, fromMe: false, id: 'T1' } } } });
    await phone.emit('messages.update', [{ key: { remoteJid: ann, fromMe: true, id: 'I1' }, update: { status: 4 } }]);
    const file = join(recordDir, `${live.sessionId}.jsonl`);
    await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').includes('"status":4'));
    const events = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).event);
    expect(events).toEqual(expect.arrayContaining(['messaging-history.set', 'messages.upsert', 'messages.update', 'messages.reaction']));

    const replayed = await app.createTenant();
    await replay(replayed.sessionId, file);
    const pageOf = async (tenant: Tenant) => {
      const [chat] = await listAllChats(app, tenant);
      const response = await app.request(`/api/v1/sessions/${tenant.sessionId}/chats/${chat.id}/messages`, { token: tenant.apiKey });
      return response.body.data.map(({ id: _id, sessionId: _s, chatId: _c, ...rest }: any) => rest);
    };
    const expected = await pageOf(live);
    expect(expected.map((m: any) => [m.key.id, m.type, m.text, m.status, m.deletedAt !== null, m.editedAt !== null, m.reactions.length])).toEqual([
      ['T2', 'text', 'fixed', null, false, true, 0],
      ['I1', 'image', 'pic', 'read', false, false, 1],
      ['T1', 'text', null, null, true, false, 0],
    ]);
    await expect(pageOf(replayed)).resolves.toEqual(expected);
    // The replayed copy's media key decrypts (it is bound to its own session).
    const media = await app.dataSource.query(`SELECT session_id, media_key FROM messages WHERE wa_id = 'I1' AND session_id = ANY($1)`, [
      [live.sessionId, replayed.sessionId],
    ]);
    const cipher = app.app.get(CredentialCipher);
    for (const row of media) expect(cipher.decrypt(row.media_key, mediaKeyContext(row.session_id, 'I1', true))).toEqual(image.mediaKey);
  });

  it('refuses a malformed recording, naming the line, and applies nothing', async () => {
    const tenant = await app.createTenant();
    const file = join(recordDir, 'malformed.jsonl');
    const good = readFileSync(FIXTURE, 'utf8').split('\n').slice(0, 4).join('\n');
    writeFileSync(file, `${good}\n{"event":"chats.update","data":[{"id":"1@s.whatsapp.net"}]\n`);
    const error = await runCommand(app.app, ['sync', 'replay', '--session', tenant.sessionId, file], () => undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandFailedError);
    expect((error as Error).message).toMatch(/line 5: not valid JSON .*nothing was applied/);
    await expect(listAllChats(app, tenant)).resolves.toEqual([]);
  });

  it('requires an existing session and a readable file', async () => {
    const tenant = await app.createTenant();
    await expect(runCommand(app.app, ['sync', 'replay', '--session', '01J9ZX8K2QHV0M3T6R7P4N5W8C', FIXTURE], () => undefined)).rejects.toThrow(
      'session 01J9ZX8K2QHV0M3T6R7P4N5W8C not found',
    );
    await expect(runCommand(app.app, ['sync', 'replay', '--session', tenant.sessionId, join(recordDir, 'nope.jsonl')], () => undefined)).rejects.toThrow(
      'no such file',
    );
  });

  it('the CLI exits non-zero and names the malformed line', async () => {
    const tenant = await app.createTenant();
    const file = join(recordDir, 'bad-cli.jsonl');
    writeFileSync(file, '{"event":"chats.delete","data":[]}\n\n{"data":[]}\n');
    const result = await promisify(execFile)(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'src/cli.ts', 'sync', 'replay', '--session', tenant.sessionId, file],
      {
        cwd: join(__dirname, '..', '..'),
        env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'silent' },
      },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}: line 3: "event" must be a Baileys event name; nothing was applied`);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
