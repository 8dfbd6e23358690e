import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { hostOf, NetworkPolicy, WebhookUrlRefusedError } from './network-policy';

/** Bytes of a receiver's answer kept with the delivery (for people reading the deliveries API). */
export const RESPONSE_EXCERPT_BYTES = 1024;
/** A receiver that answers with more than this is cut off after it (the connection is not reused). */
const MAX_RESPONSE_BYTES = 64 * 1024;
const MAX_SOCKETS_PER_ORIGIN = 64;

export interface DeliveryRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface DeliveryOutcome {
  /** 2xx: the receiver accepted it. */
  ok: boolean;
  status: number | null;
  durationMs: number;
  /** Why it failed when there is no HTTP status (refused address, timeout, connection error) or for a redirect. */
  error: string | null;
  excerpt: string | null;
}

/**
 * Sends one webhook request: POST, the connection made only to addresses the network policy
 * permits (checked on the addresses DNS gives now, at connect time), redirects not followed (a 3xx
 * is a failure), everything within WEBHOOK_TIMEOUT_MS, and at most a short excerpt of the answer kept.
 */
export class WebhookSender {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(
    private readonly policy: NetworkPolicy,
    private readonly timeoutMs: number,
  ) {
    const lookup = this.guardedLookup.bind(this) as unknown as http.AgentOptions['lookup'];
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_ORIGIN, lookup });
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_ORIGIN, lookup });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  send(request: DeliveryRequest): Promise<DeliveryOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    return new Promise<DeliveryOutcome>((resolve) => {
      let settled = false;
      // Set once the request exists; `finish` may run before that (a refused URL).
      const timer: { id?: NodeJS.Timeout } = {};
      const finish = (outcome: Omit<DeliveryOutcome, 'durationMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer.id);
        resolve({ ...outcome, durationMs: elapsed() });
      };
      const fail = (error: unknown) => finish({ ok: false, status: null, error: describe(error), excerpt: null });
      let url: URL;
      try {
        url = new URL(request.url);
        // A literal address never goes through DNS (nor the lookup below): judged here.
        const host = hostOf(url);
        if (isIP(host) && !this.policy.permits(host)) throw new WebhookUrlRefusedError(`the webhook host ${host} is a private, loopback or link-local address`);
      } catch (error) {
        return fail(error);
      }
      const secure = url.protocol === 'https:';
      const client = secure ? https : http;
      const req = client.request(url, {
        method: 'POST',
        agent: secure ? this.httpsAgent : this.httpAgent,
        headers: {
          ...request.headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(request.body),
          'user-agent': 'whatsapp-gateway-webhooks/1',
        },
      });
      timer.id = setTimeout(() => {
        req.destroy(new Error(`timed out after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      req.on('error', fail);
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          if (received < RESPONSE_EXCERPT_BYTES) chunks.push(chunk.subarray(0, RESPONSE_EXCERPT_BYTES - received));
          received += chunk.length;
          if (received > MAX_RESPONSE_BYTES) res.destroy();
        });
        const done = () => {
          const excerpt = chunks.length > 0 ? Buffer.concat(chunks).toString('utf8') : null;
          const ok = status >= 200 && status < 300;
          const redirect = status >= 300 && status < 400 ? `redirect to ${String(res.headers.location ?? '?').slice(0, 200)} not followed` : null;
          finish({ ok, status, error: redirect, excerpt });
        };
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      });
      req.end(request.body);
    });
  }

  private guardedLookup(
    hostname: string,
    options: { all?: boolean; family?: number },
    callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void {
    this.policy.resolve(hostname).then(
      (addresses) => {
        const usable = options.family ? addresses.filter(({ family }) => family === options.family) : addresses;
        if (usable.length === 0) return callback(new Error(`the webhook host ${hostname} has no address of the requested family`), '', 0);
        if (options.all) callback(null, usable);
        else callback(null, usable[0].address, usable[0].family);
      },
      (error: Error) => callback(error, '', 0),
    );
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return (code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message).slice(0, 500);
  }
  return String(error).slice(0, 500);
}
