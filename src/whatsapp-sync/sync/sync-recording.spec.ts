import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MalformedRecordingError, readRecording } from './sync-recording';

describe('reading a JSONL recording', () => {
  let dir: string;
  let reviver: (key: string, value: unknown) => unknown;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sync-recording-'));
    reviver = (await import('baileys')).BufferJSON.reviver;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function read(content: string) {
    const file = join(dir, `r${Math.random()}.jsonl`);
    writeFileSync(file, content);
    const events = [];
    for await (const event of readRecording(file, reviver)) events.push(event);
    return events;
  }

  it('yields each event with its line number, skips blank lines, revives Buffers', async () => {
    const events = await read(
      ['{"event":"chats.delete","data":["1@s.whatsapp.net"]}', '', '{"event":"x","data":{"b":{"type":"Buffer","data":"AQI="}}}', ''].join('\n'),
    );
    expect(events).toEqual([
      { line: 1, event: 'chats.delete', data: ['1@s.whatsapp.net'] },
      { line: 3, event: 'x', data: { b: Buffer.from([1, 2]) } },
    ]);
  });

  it.each([
    ['{"event":"chats.delete","data":[]}\n{"event":', 2, 'not valid JSON'],
    ['[1,2]', 1, 'expected an object'],
    ['{"data":[]}', 1, '"event" must be'],
    ['{"event":"chats.delete"}', 1, '"data" is missing'],
  ])('names the malformed line: %j', async (content, line, reason) => {
    const error = await read(content).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalformedRecordingError);
    expect((error as MalformedRecordingError).line).toBe(line);
    expect((error as MalformedRecordingError).message).toContain(`line ${line}: ${reason}`);
  });
});
