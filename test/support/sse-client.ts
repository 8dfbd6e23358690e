import { EventEmitter } from 'node:events';

export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
  comments: string[];
}

/**
 * A Server-Sent Events client over fetch (it sends the Authorization header, which EventSource
 * cannot): parses messages as they arrive; tests wait on what it received.
 */
export class SseClient {
  readonly messages: SseMessage[] = [];
  status = 0;
  ended = false;
  private readonly emitter = new EventEmitter();
  private readonly controller = new AbortController();
  private buffer = '';

  private constructor() {}

  static async open(url: string, headers: Record<string, string>): Promise<SseClient> {
    const client = new SseClient();
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: client.controller.signal });
    client.status = response.status;
    if (response.status !== 200) {
      client.messages.push({ data: await response.text(), comments: [] });
      client.ended = true;
      return client;
    }
    void client.read(response.body!.getReader());
    return client;
  }

  /** The events (messages with a type), in arrival order. */
  events(): { id: string; type: string; json: any }[] {
    return this.messages
      .filter((message) => message.event !== undefined)
      .map((message) => ({ id: message.id!, type: message.event!, json: JSON.parse(message.data!) }));
  }

  lastId(): string | undefined {
    return [...this.messages].reverse().find((message) => message.id !== undefined)?.id;
  }

  async waitFor<T>(condition: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
    const now = condition();
    if (now !== undefined && now !== false) return now;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.emitter.off('message', check);
        reject(new Error(`stream: condition not met within ${timeoutMs} ms (${this.messages.length} messages, ended: ${this.ended})`));
      }, timeoutMs);
      const check = () => {
        const value = condition();
        if (value === undefined || value === false) return;
        clearTimeout(timer);
        this.emitter.off('message', check);
        resolve(value);
      };
      this.emitter.on('message', check);
    });
  }

  close(): void {
    this.controller.abort();
  }

  private async read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) >= 0) {
          const block = this.buffer.slice(0, end);
          this.buffer = this.buffer.slice(end + 2);
          if (block.trim() !== '') this.push(parse(block));
        }
      }
    } catch {
      // aborted by close(), or the connection dropped
    }
    this.ended = true;
    this.emitter.emit('message');
  }

  private push(message: SseMessage): void {
    this.messages.push(message);
    this.emitter.emit('message');
  }
}

function parse(block: string): SseMessage {
  const message: SseMessage = { comments: [] };
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) message.comments.push(line.slice(1).trim());
    else {
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') message.id = value;
      else if (field === 'event') message.event = value;
      else if (field === 'data') message.data = message.data === undefined ? value : `${message.data}\n${value}`;
      else if (field === 'retry') message.retry = Number(value);
    }
  }
  return message;
}
