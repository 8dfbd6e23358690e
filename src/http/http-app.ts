import { DynamicModule, INestApplication, NestApplicationOptions } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { BEARER_SCHEME } from '../auth/require-capability.decorator';
import { ErrorEnvelope } from '../common/errors/error-envelope';
import { NestLogger } from '../common/logging/nest-logger';
import { ROOT_LOGGER } from '../common/logging/root-logger';
import { arrangeDocument } from '../common/openapi/arrange-document';
import { AppConfig } from '../config/app-config';
import { ShutdownCoordinator } from '../lifecycle/shutdown-coordinator';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { ErrorEnvelopeFilter } from './error-envelope.filter';
import { expressPlatform } from './express/express-platform';
import { fastifyPlatform } from './fastify/fastify-platform';
import { HttpMetrics } from './http-metrics';
import type { HttpPlatform, HttpPlatformName } from './http-platform';
import { REQUEST_ID_HEADER } from './request-id';
import { RequestLog } from './request-log';
import type { RequestObserver } from './request-observer';
import { SWAGGER_UI_PATH } from './security-headers';

const PLATFORMS: Readonly<Record<HttpPlatformName, HttpPlatform>> = { express: expressPlatform, fastify: fastifyPlatform };

/** The HTTP platform HTTP_PLATFORM names. */
export function httpPlatform(config: AppConfig): HttpPlatform {
  return PLATFORMS[config.http.platform];
}

/** The Nest application on the configured HTTP platform, configured (configureApp), not yet listening. */
export async function createHttpApp(module: DynamicModule, config: AppConfig, options: NestApplicationOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create(module, httpPlatform(config).createAdapter(config.http), { ...options, bodyParser: false });
  configureApp(app);
  return app;
}

const BEARER_DESCRIPTION =
  "Send Authorization: Bearer <token>. The router accepts two kinds of token and tries each in turn: a frontend-minted login JWT (verified against the frontend JWKS; the person's org + role are read from it), or an api-key for a script/service (carrying a fixed set of gateway permissions). The bearerFormat: JWT label describes the person-login case.";

/**
 * Everything about the HTTP surface that is not a module: logger, the error envelope, the
 * platform's per-request hooks (request ids, security headers, request log, metrics, JSON bodies),
 * CORS, Swagger. For an app created with `httpPlatform(config).createAdapter(...)` and
 * `bodyParser: false`. Signals are main.ts's business (graceful shutdown), not this function's.
 */
export function configureApp(app: INestApplication): OpenAPIObject {
  const config = app.get(AppConfig);
  app.useLogger(app.get(NestLogger));
  app.useGlobalFilters(new ErrorEnvelopeFilter(app.get(HttpAdapterHost)));
  const shutdown = app.get(ShutdownCoordinator);
  const observers: RequestObserver[] = [new RequestLog(app.get(ROOT_LOGGER))];
  if (config.metrics.enabled) observers.push(new HttpMetrics(app.get(GatewayMetrics)));
  httpPlatform(config).install(app, { isDraining: () => shutdown.isDraining, observers });
  if (config.http.corsOrigins) {
    app.enableCors({
      origin: config.http.corsOrigins === '*' ? '*' : config.http.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', REQUEST_ID_HEADER],
      exposedHeaders: [REQUEST_ID_HEADER, 'Retry-After', 'RateLimit', 'RateLimit-Policy'],
      maxAge: 600,
    });
  }
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
export async function listenOn(app: INestApplication, port: number, host?: string): Promise<void> {
  if (host) return void (await app.listen(port, host));
  try {
    await app.listen(port, '::');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw error;
    await app.listen(port, '0.0.0.0');
  }
}
