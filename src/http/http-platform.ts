import type { INestApplication } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import type { HttpPlatformName } from '../config/environment';
import type { RequestObserver } from './request-observer';

export type { HttpPlatformName };

/** What the adapter needs from the configuration. */
export interface HttpAdapterSettings {
  /** TRUST_PROXY: which proxies to believe about the client address (X-Forwarded-For). */
  trustProxy: boolean | number | string;
}

/** What every request passes through, whatever the platform. */
export interface RequestHooks {
  /** From SIGTERM on: every response asks the client to reconnect (`Connection: close`). */
  isDraining(): boolean;
  /** Told once per request, when its response is sent or its client went away first. */
  observers: readonly RequestObserver[];
}

/**
 * One HTTP server implementation behind the gateway. Both give the same behaviour, which the whole
 * end-to-end suite checks on each: request ids, security headers (per response, worked out once),
 * JSON bodies (src/http/json-body.ts: size, content type, depth), the error envelope for framework
 * refusals (undecodable paths, unknown routes), the request log and the metrics (one hook each).
 */
export interface HttpPlatform {
  readonly name: HttpPlatformName;
  /** The Nest HTTP adapter: create the Nest application with it (and `bodyParser: false`). */
  createAdapter(settings: HttpAdapterSettings): AbstractHttpAdapter;
  /** Attaches the per-request hooks and the JSON body parser to an application built on that adapter. */
  install(app: INestApplication, hooks: RequestHooks): void;
}
