import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** A line of a recording that is not `{"event": "<name>", "data": <payload>}`. */
export class MalformedRecordingError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}: line ${line}: ${reason}`);
    this.name = 'MalformedRecordingError';
  }
}

export interface RecordedEvent {
  line: number;
  event: string;
  data: unknown;
}

type Reviver = (key: string, value: unknown) => unknown;

/**
 * Streams the events of a JSONL recording, one line at a time (memory stays flat however large
 * the file). Blank lines are skipped; any other line that is not a recorded event throws
 * MalformedRecordingError naming it.
 */
export async function* readRecording(file: string, reviver: Reviver): AsyncGenerator<RecordedEvent> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const text of lines) {
      number++;
      if (text.trim() === '') continue;
      yield parseRecordedLine(file, number, text, reviver);
    }
  } finally {
    lines.close();
  }
}

export function parseRecordedLine(file: string, line: number, text: string, reviver: Reviver): RecordedEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, reviver);
  } catch (error) {
    throw new MalformedRecordingError(file, line, `not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new MalformedRecordingError(file, line, 'expected an object {"event": ..., "data": ...}');
  }
  const { event, data } = parsed as { event?: unknown; data?: unknown };
  if (typeof event !== 'string' || event.trim() === '') throw new MalformedRecordingError(file, line, '"event" must be a Baileys event name');
  if (!('data' in parsed) || data === undefined) throw new MalformedRecordingError(file, line, '"data" is missing');
  return { line, event, data };
}
