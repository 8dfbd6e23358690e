import { INestApplication, NestApplicationOptions, StreamableFile } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import express, { NextFunction, Request, Response } from 'express';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import getRawBody from 'raw-body';
import type { Principal } from '../../auth/principal';
import type { HttpAdapterSettings, HttpPlatform, RequestHooks } from '../http-platform';
import {
  hasRequestBody,
  isJsonContentType,
  isMultipartContentType,
  MAX_JSON_BODY_BYTES,
  parseJsonBody,
  payloadTooLarge,
  routeNotFound,
  unsupportedContentType,
} from '../json-body';
import { AppError } from '../../common/errors/app-error';
import { REQUEST_ID_HEADER, requestIdFor } from '../request-id';
import { pathOf, RequestObserver, RequestOutcome } from '../request-observer';
import { securityHeaderEntriesFor } from '../security-headers';

/** What the gateway keeps on an Express request (Fastify has the same as `id`, `user` and `elapsedTime`). */
type GatewayRequest = Omit<Request, 'user'> & GatewayState;
interface GatewayState {
  id: string;
  user: Principal | null;
  /** performance.now() when the request arrived. */
  arrivedAt: number;
  /** The route pattern of a request the Swagger UI assets answer (they are not an Express route). */
  assetRoute?: string;
}

/** Fastify's defaults, kept on Express so that both platforms treat connections and paths alike. */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;
const MAX_PARAM_LENGTH = 100;

/** `@nestjs/platform-express`: the default platform (HTTP_PLATFORM=express). */
export const expressPlatform: HttpPlatform = {
  name: 'express',

  createAdapter(settings: HttpAdapterSettings): ExpressAdapter {
    // Set before the router exists (the first use() creates it, and it keeps these settings).
    const instance = express();
    instance.set('case sensitive routing', true);
    instance.set('trust proxy', settings.trustProxy);
    instance.set('etag', false);
    instance.disable('x-powered-by');
    return new GatewayExpressAdapter(instance);
  },

  install(app: INestApplication, hooks: RequestHooks): void {
    const server = app.getHttpServer() as Server;
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.requestTimeout = 0;
    const observers = hooks.observers;
    const trustsNoProxy = (app.getHttpAdapter().getInstance() as express.Express).get('trust proxy') === false;
    const onClose = observers.length > 0 ? observeOnClose(observers, trustsNoProxy) : undefined;
    // Before any other middleware (CORS answers preflights itself): every response carries these.
    app.use((request: GatewayRequest, response: Response, next: NextFunction) => {
      request.arrivedAt = performance.now();
      request.id = requestIdFor(request);
      request.user = null;
      for (const [name, value] of securityHeaderEntriesFor(request.url)) response.setHeader(name, value);
      response.setHeader(REQUEST_ID_HEADER, request.id);
      if (hooks.isDraining()) response.setHeader('Connection', 'close');
      // A response emits 'close' once: on() spares once()'s wrapper per request.
      if (onClose) response.on('close', onClose);
      // As Fastify's router: a path that is not valid percent-encoding names no resource.
      if (request.url.includes('%') && !isDecodable(pathOf(request.url))) return next(routeNotFound());
      next();
    });
  },
};

/**
 * One listener for every response (`this` is the response): the request is over, sent or abandoned.
 * Without trusted proxies the client address is the socket's, which is what Express' `req.ip`
 * works out per call by parsing X-Forwarded-For and asking its trust function about each hop.
 */
function observeOnClose(observers: readonly RequestObserver[], trustsNoProxy: boolean): (this: Response) => void {
  return function onClose(this: Response) {
    const request = this.req as GatewayRequest;
    const completed = this.writableFinished;
    const outcome: RequestOutcome = {
      id: request.id,
      method: request.method,
      path: pathOf(request.originalUrl),
      ip: trustsNoProxy ? request.socket.remoteAddress : request.ip,
      route: (request.route as { path: string } | undefined)?.path ?? request.assetRoute,
      user: request.user,
      statusCode: completed ? this.statusCode : undefined,
      durationMs: completed ? performance.now() - request.arrivedAt : undefined,
    };
    for (const observer of observers) observer.observe(outcome);
  };
}

function isDecodable(path: string): boolean {
  try {
    decodeURI(path);
    return true;
  } catch {
    return false;
  }
}

type Handler = (request: GatewayRequest, response: Response, next: NextFunction) => void;

/**
 * Nest's Express adapter, with what Fastify does between routing and the handler: every route
 * first reads its JSON body (after routing, as Fastify does, so a request aborted while its body
 * arrives is counted under its route) and refuses a path parameter over 100 characters as an
 * unknown route; unknown routes read their body too (413 before 404, as on Fastify).
 */
class GatewayExpressAdapter extends ExpressAdapter {
  private readonly routeBody: Handler = (request, response, next) => {
    if (!hasRequestBody(request.method, request.headers)) return checkParameters(request, next);
    readJsonBody(request, response, false, (error) => (error ? next(error) : checkParameters(request, next)));
  };

  private readonly unknownRouteBody: Handler = (request, response, next) => readJsonBody(request, response, true, next);

  /**
   * A JSON body as Fastify sends one: serialized once, with its length, straight to Node's
   * response. Express' res.json() would parse and rewrite the Content-Type (to set its charset)
   * and decide on freshness and an ETag per response, work the gateway switches off anyway.
   * Anything else (no body, a string, a stream) goes through Nest's own reply.
   */
  reply(response: Response, body: unknown, statusCode?: number): unknown {
    if (typeof body !== 'object' || body === null || body instanceof StreamableFile || body instanceof Error || response.hasHeader('content-type')) {
      return super.reply(response, body, statusCode);
    }
    // A Buffer, not the string: Node then writes the head and the body as they are (measured: a
    // string, which Node joins to the head and encodes in the write, cost about 3% more per request).
    const bytes = Buffer.from(JSON.stringify(body), 'utf8');
    if (statusCode) response.statusCode = statusCode;
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    response.setHeader('Content-Length', bytes.length);
    response.end(bytes);
  }

  /**
   * Node's server, making its requests and responses with Express' prototypes and the gateway's
   * fields from the start (gatewayMessageClasses). The gateway uses neither HTTPS nor
   * forceCloseConnections; with either, Nest's own server.
   */
  initHttpServer(options: NestApplicationOptions): void {
    if (options?.httpsOptions || options?.forceCloseConnections) return super.initHttpServer(options);
    const instance = this.getInstance<express.Express>();
    this.httpServer = createServer(gatewayMessageClasses(instance), instance);
  }

  setNotFoundHandler(handler: Parameters<ExpressAdapter['setNotFoundHandler']>[0], prefix?: string): unknown {
    this.use(this.unknownRouteBody);
    return super.setNotFoundHandler(handler, prefix);
  }

  /** Swagger UI's assets: labelled with a route pattern, as Fastify's static plugin route is (`/docs/*`). */
  useStaticAssets(path: string, options: { prefix?: string } & Record<string, unknown>): unknown {
    const assetRoute = `${options.prefix ?? ''}/*`;
    this.use(options.prefix ?? '/', (request: GatewayRequest, _response: Response, next: NextFunction) => {
      request.assetRoute = assetRoute;
      next();
    });
    return super.useStaticAssets(path, options);
  }

  /** A route of Nest's (path and handler): the body and parameter checks first. */
  routeWithBody(method: RouteMethod, path: unknown, handler: unknown) {
    const instance = this.getInstance<express.Express>();
    return handler === undefined ? instance[method](path as string) : instance[method](path as string, this.routeBody as never, handler as never);
  }
}

/**
 * Request and response classes whose objects are born with Express' prototypes in their chain (and
 * with the gateway's request fields), made the app's `request` and `response` prototypes. Express
 * would otherwise swap the prototype of both objects on every request (its Object.setPrototypeOf
 * is a no-op once they match): a change of their hidden classes that cost about a third of
 * Express' CPU per request, in every later step that touches them (docs/performance.md).
 */
function gatewayMessageClasses(instance: express.Express): { IncomingMessage: typeof IncomingMessage; ServerResponse: typeof ServerResponse } {
  class GatewayIncomingMessage extends IncomingMessage implements GatewayState {
    id = '';
    user: Principal | null = null;
    arrivedAt = 0;
    assetRoute: string | undefined = undefined;
  }
  class GatewayServerResponse extends ServerResponse {}
  // Express' own prototypes stay behind these (its getters and methods), and Express now finds them in place.
  Object.setPrototypeOf(GatewayIncomingMessage.prototype, instance.request);
  Object.setPrototypeOf(GatewayServerResponse.prototype, instance.response);
  instance.request = GatewayIncomingMessage.prototype as unknown as typeof instance.request;
  instance.response = GatewayServerResponse.prototype as unknown as typeof instance.response;
  return { IncomingMessage: GatewayIncomingMessage, ServerResponse: GatewayServerResponse as typeof ServerResponse };
}

/** As Fastify's router: a path parameter over 100 characters matches no route. */
function checkParameters(request: GatewayRequest, next: NextFunction): void {
  for (const name in request.params) if (request.params[name].length > MAX_PARAM_LENGTH) return next(routeNotFound());
  next();
}

/** The methods Nest registers routes with: each goes through routeWithBody. */
const ROUTE_METHODS = ['get', 'post', 'put', 'patch', 'delete', 'options', 'head', 'all'] as const;
type RouteMethod = (typeof ROUTE_METHODS)[number];
for (const method of ROUTE_METHODS) {
  GatewayExpressAdapter.prototype[method] = function (this: GatewayExpressAdapter, path: unknown, handler?: unknown) {
    return this.routeWithBody(method, path, handler);
  };
}

/**
 * Reads a JSON body, as Fastify does: none for bodiless methods or requests; a content type other
 * than JSON refused before reading (but an unknown route stays a 404); over MAX_JSON_BODY_BYTES
 * refused with 413 (announced, or as it arrives); the text parsed by parseJsonBody. A refused
 * body closes the connection: the client may still be sending it.
 */
function readJsonBody(request: GatewayRequest, response: Response, unknownRoute: boolean, next: (error?: unknown) => void): void {
  if (!hasRequestBody(request.method, request.headers)) return next();
  // A multipart form is streamed by the route that takes one (streamed-body.ts), never read here.
  if (isMultipartContentType(request.headers['content-type'])) return next();
  if (!isJsonContentType(request.headers['content-type'])) {
    if (unknownRoute) return next();
    response.setHeader('Connection', 'close');
    return next(unsupportedContentType());
  }
  getRawBody(request, { length: request.headers['content-length'], limit: MAX_JSON_BODY_BYTES, encoding: 'utf8' }, (error, text) => {
    if (error) {
      // The client went away: nobody is there to answer (the request is counted as aborted).
      if (error.type === 'request.aborted') return;
      response.setHeader('Connection', 'close');
      return next(
        error.type === 'entity.too.large'
          ? payloadTooLarge()
          : AppError.invalidArgument('request body does not match its Content-Length', { parameter: 'body' }),
      );
    }
    try {
      request.body = parseJsonBody(text);
    } catch (parseError) {
      response.setHeader('Connection', 'close');
      return next(parseError);
    }
    next();
  });
}
