import { INestApplication } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BEARER_SCHEME } from './auth/require-capability.decorator';
import { useJsonBodyParser, frameworkError } from './common/http/malformed-requests';
import { REQUEST_ID_HEADER, requestIdFor } from './common/http/request-id';
import { SWAGGER_UI_PATH, securityHeadersFor } from './common/http/security-headers';
import { ErrorEnvelope } from './common/errors/error-envelope';
import { NestLogger } from './common/logging/nest-logger';
import { installRequestLog } from './common/logging/request-log';
import { ROOT_LOGGER } from './common/logging/root-logger';
import { arrangeDocument } from './common/openapi/arrange-document';
import { AppConfig } from './config/app-config';
import { ShutdownCoordinator } from './lifecycle/shutdown-coordinator';
import { GatewayMetrics } from './metrics/gateway-metrics';
import { installHttpMetrics } from './metrics/http-metrics.hook';

const MAX_JSON_BODY_BYTES = 256 * 1024;

const BEARER_DESCRIPTION =
  'Send Authorization: Bearer <token>. The router accepts two kinds of token and tries each in turn: a frontend-minted login JWT (verified against the frontend JWKS; the person\'s org + role are read from it), or an api-key for a script/service (carrying a fixed set of gateway permissions). The bearerFormat: JWT label describes the person-login case.';

/** The HTTP server (Fastify): proxies, body limit, request ids. Create the Nest app with it, then call configureApp. */
export function createHttpAdapter(config: AppConfig): FastifyAdapter {
  return new FastifyAdapter({
    trustProxy: config.http.trustProxy,
    bodyLimit: MAX_JSON_BODY_BYTES,
    requestIdHeader: false,
    genReqId: requestIdFor,
    // No HTTP-layer 503s on close: graceful shutdown drains the server itself (lifecycle/).
    return503OnClosing: false,
    skipMiddie: true,
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      stampResponse(request, reply);
      const answer = frameworkError(error);
      reply.code(answer.status).send(answer.toEnvelope());
    },
  });
}

/**
 * Everything about the HTTP surface that is not a module: logger, security headers, request ids,
 * CORS, body parsing, request log and metrics, Swagger. Signals are main.ts's business (graceful
 * shutdown), not this function's.
 */
export function configureApp(app: NestFastifyApplication): OpenAPIObject {
  const config = app.get(AppConfig);
  app.useLogger(app.get(NestLogger));
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  fastify.decorateRequest('user', null);
  const shutdown = app.get(ShutdownCoordinator);
  fastify.addHook('onRequest', (request, reply, done) => {
    stampResponse(request, reply);
    // From SIGTERM on, every response asks the client to reconnect (through the Service, to a replica that stays).
    if (shutdown.isDraining) reply.header('connection', 'close');
    done();
  });
  installRequestLog(fastify, app.get(ROOT_LOGGER));
  if (config.metrics.enabled) installHttpMetrics(fastify, app.get(GatewayMetrics));
  if (config.http.corsOrigins) {
    app.enableCors({
      origin: config.http.corsOrigins === '*' ? '*' : config.http.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', REQUEST_ID_HEADER],
      exposedHeaders: [REQUEST_ID_HEADER, 'Retry-After', 'RateLimit', 'RateLimit-Policy'],
      maxAge: 600,
    });
  }
  useJsonBodyParser(fastify);
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup(SWAGGER_UI_PATH, app, document, {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'WhatsApp Gateway API',
    // No tagsSorter/operationsSorter: sections and operations keep the document's order (API_TAGS).
    // persistAuthorization keeps the token entered in "Authorize" across page reloads.
    swaggerOptions: { persistAuthorization: true, displayRequestDuration: true },
  });
  return document;
}

/** Headers every response carries, whatever answers it: the request id and the security headers. */
function stampResponse(request: FastifyRequest, reply: FastifyReply): void {
  reply.headers(securityHeadersFor(request.url));
  reply.header(REQUEST_ID_HEADER, request.id);
}

/** What the gateway is, shown at the top of Swagger UI: one string per paragraph. */
const API_DESCRIPTION = [
  "A multi-tenant WhatsApp gateway. An organization attaches WhatsApp numbers to it (**sessions**); the gateway holds each number's WhatsApp connection and keeps a **stored copy** of its chats in PostgreSQL, which this API serves: reads never wait on WhatsApp and keep working while a number is disconnected.",
  '**Authentication.** Every call sends `Authorization: Bearer <token>`, where the token is either a login JWT minted by the frontend or an API key issued to your organization. On this page, press **Authorize** and paste either one; it is kept across reloads. Each operation names the capability it needs (`read`, `send`, `manage` or `admin`).',
  '**Pagination.** Listings return `{ "data": [...], "nextCursor": "..." }`: send `nextCursor` back as `cursor` until it is `null`.',
  '**Errors.** Every non-2xx response, on every route, is `{ "error": { "code", "message", "details" } }` with a fixed HTTP status per `code`. Every response carries an `X-Request-Id` header that also appears in the logs.',
].join('\n\n');

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('WhatsApp Gateway')
    .setDescription(API_DESCRIPTION)
    .setVersion('1.0.0')
    .addServer('/', 'This gateway')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: BEARER_DESCRIPTION }, BEARER_SCHEME)
    .build();
  // ErrorEnvelope is an extra model because arrangeDocument refers to it from every operation.
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_controller, method) => method,
    extraModels: [ErrorEnvelope],
  });
  return arrangeDocument(document);
}

/**
 * Listens on `host`, or on every interface when none is given (Fastify alone would pick
 * localhost, which no Kubernetes Service can reach): IPv6 and IPv4 where the host has IPv6.
 */
export async function listenOn(app: NestFastifyApplication, port: number, host?: string): Promise<void> {
  if (host) return void (await app.listen(port, host));
  try {
    await app.listen(port, '::');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw error;
    await app.listen(port, '0.0.0.0');
  }
}
