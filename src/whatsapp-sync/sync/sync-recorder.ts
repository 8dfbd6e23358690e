import { createWriteStream, mkdirSync, WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Baileys } from './baileys';

/**
 * Recording: appends the events of each session, as the sink received them, to
 * `<dir>/<session id>.jsonl`, one `{"event": <Baileys event name>, "data": <payload>}` per line,
 * serialized with Baileys' `BufferJSON.replacer`. `sync replay` feeds such a file back.
 */
export class SyncRecorder {
  private readonly streams = new Map<string, WriteStream>();

  constructor(
    private readonly dir: string | undefined,
    private readonly baileys: () => Baileys | undefined,
  ) {
    if (dir) mkdirSync(dir, { recursive: true });
  }

  get enabled(): boolean {
    return this.dir !== undefined;
  }

  fileFor(sessionId: string): string | undefined {
    return this.dir ? join(this.dir, `${encodeURIComponent(sessionId)}.jsonl`) : undefined;
  }

  record(sessionId: string, events: { event: string; data: unknown }[]): void {
    const file = this.fileFor(sessionId);
    const replacer = this.baileys()?.BufferJSON.replacer;
    if (!file || !replacer || events.length === 0) return;
    let stream = this.streams.get(sessionId);
    if (!stream) {
      stream = createWriteStream(file, { flags: 'a' });
      this.streams.set(sessionId, stream);
    }
    stream.write(events.map(({ event, data }) => `${JSON.stringify({ event, data }, replacer)}\n`).join(''));
  }

  async close(): Promise<void> {
    const streams = [...this.streams.values()];
    this.streams.clear();
    await Promise.all(streams.map((stream) => new Promise<void>((resolve) => stream.end(resolve))));
  }
}
