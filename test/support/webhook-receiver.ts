import { EventEmitter, once } from 'node:events';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  headers: Record<string, string>;
  body: string;
  /** webhook-id */
  id: string;
  json: { id: string; type: string; orgId: string; sessionId: string | null; occurredAt: number; data: Record<string, any> };
}

/** What the receiver answers a request with; `hold` keeps the request open (never answered). */
export type Answer = number | 'hold';

/**
 * A webhook receiver on loopback: records every request and answers with what `answer` says
 * (200 by default). Tests wait on what it receives (`waitFor`), never on time.
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  answer: (request: ReceivedRequest, attemptOfId: number) => Answer = () => 200;
  private readonly emitter = new EventEmitter();
  private readonly held: ServerResponse[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<WebhookReceiver> {
    const server = createServer();
    const receiver = new WebhookReceiver(server);
    server.on('request', (req, res) => receiver.handle(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  /** Requests carrying this webhook-id. */
  attemptsOf(id: string): ReceivedRequest[] {
    return this.requests.filter((request) => request.id === id);
  }

  /** Distinct webhook-ids received, in first-arrival order. */
  ids(): string[] {
    return [...new Set(this.requests.map((request) => request.id))];
  }

  /** Resolves once `condition` holds for what was received (checked now and after every request). */
  async waitFor<T>(condition: () => T | undefined | false, timeoutMs = 25_000): Promise<T> {
    const now = condition();
    if (now !== undefined && now !== false) return now;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.emitter.off('request', check);
        reject(
          new Error(
            `receiver: condition not met within ${timeoutMs} ms (${this.requests.length} requests: ${this.requests.map((r) => `${r.id} ${r.json.type}`).join(', ')})`,
          ),
        );
      }, timeoutMs);
      const check = () => {
        const value = condition();
        if (value === undefined || value === false) return;
        clearTimeout(timer);
        this.emitter.off('request', check);
        resolve(value);
      };
      this.emitter.on('request', check);
    });
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([key, value]) => [key, String(value)]));
      const request: ReceivedRequest = { headers, body, id: headers['webhook-id'], json: JSON.parse(body) };
      const attempt = this.attemptsOf(request.id).length + 1;
      const answer = this.answer(request, attempt);
      this.requests.push(request);
      if (answer === 'hold') this.held.push(res);
      else res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'not now');
      this.emitter.emit('request', request);
    });
  }
}
