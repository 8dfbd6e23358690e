import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/principal';
import type { HttpAdapterSettings, HttpPlatform, RequestHooks } from '../http-platform';
import { invalidJsonBody, MAX_JSON_BODY_BYTES, parseJsonBody, routeNotFound } from '../json-body';
import { AppError } from '../../common/errors/app-error';
import { REQUEST_ID_HEADER, requestIdFor } from '../request-id';
import { pathOf, RequestOutcome } from '../request-observer';
import { securityHeadersFor } from '../security-headers';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, set by the authentication guard; null on public routes and before authentication. */
    user: Principal | null;
  }
}

/**
 * TRUST_PROXY for Fastify. A hop count means what it means on Express (proxy-addr): trust the
 * nearest `hops` addresses. Fastify 5.12 turned a bare number into "trust none", so it gets the
 * hop rule as a function.
 */
function fastifyTrustProxy(trustProxy: HttpAdapterSettings['trustProxy']): boolean | string | ((address: string, hop: number) => boolean) {
  if (typeof trustProxy !== 'number') return trustProxy;
  return (_address, hop) => hop < trustProxy;
}

/** `@nestjs/platform-fastify`: HTTP_PLATFORM=fastify. */
export const fastifyPlatform: HttpPlatform = {
  name: 'fastify',

  createAdapter(settings: HttpAdapterSettings): FastifyAdapter {
    return new FastifyAdapter({
      trustProxy: fastifyTrustProxy(settings.trustProxy),
      bodyLimit: MAX_JSON_BODY_BYTES,
      requestIdHeader: false,
      genReqId: requestIdFor,
      // No HTTP-layer 503s on close: graceful shutdown drains the server itself (lifecycle/).
      return503OnClosing: false,
      skipMiddie: true,
      routerOptions: { ignoreTrailingSlash: true },
      frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
        reply.headers(securityHeadersFor(request.url));
        reply.header(REQUEST_ID_HEADER, request.id);
        const answer = frameworkError(error);
        reply.code(answer.status).send(answer.toEnvelope());
      },
    });
  },

  install(app: INestApplication, hooks: RequestHooks): void {
    const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
    fastify.decorateRequest('user', null);
    fastify.addHook('onRequest', (request, reply, done) => {
      reply.headers(securityHeadersFor(request.url));
      reply.header(REQUEST_ID_HEADER, request.id);
      if (hooks.isDraining()) reply.header('connection', 'close');
      done();
    });
    const { observers } = hooks;
    if (observers.length > 0) {
      fastify.addHook('onResponse', (request, reply, done) => {
        const outcome = outcomeOf(request, reply.statusCode, reply.elapsedTime);
        for (const observer of observers) observer.observe(outcome);
        done();
      });
      fastify.addHook('onRequestAbort', (request, done) => {
        const outcome = outcomeOf(request, undefined, undefined);
        for (const observer of observers) observer.observe(outcome);
        done();
      });
    }
    useJsonBodyParser(fastify);
  },
};

function outcomeOf(request: FastifyRequest, statusCode: number | undefined, durationMs: number | undefined): RequestOutcome {
  return {
    id: request.id,
    method: request.method,
    path: pathOf(request.url),
    ip: request.ip,
    route: request.is404 ? undefined : request.routeOptions.url,
    user: request.user,
    statusCode,
    durationMs,
  };
}

/**
 * Only JSON bodies (src/http/json-body.ts decides what JSON is acceptable); Fastify refuses any
 * other content type with 415 before reading (the error filter maps it), and an oversized body with 413.
 * A multipart form is left unread for the route that streams it (streamed-body.ts).
 */
function useJsonBodyParser(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error instanceof AppError ? error : invalidJsonBody(), undefined);
    }
  });
  fastify.addContentTypeParser('multipart/form-data', (_request, _payload, done) => done(null, undefined));
}

/**
 * What Fastify's router reports before routing (frameworkErrors): a path that is not valid
 * percent-encoding names no resource (404); anything else is a malformed request.
 */
function frameworkError(error: { code?: string }): AppError {
  return error.code === 'FST_ERR_BAD_URL' ? routeNotFound() : AppError.invalidArgument('malformed request');
}
