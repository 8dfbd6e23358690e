import { INestApplication } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { BEARER_SCHEME } from './auth/require-capability.decorator';
import { bodyParserErrors, rejectUndecodablePaths } from './common/http/malformed-requests';
import { REQUEST_ID_HEADER, requestIdMiddleware } from './common/http/request-id';
import { ErrorEnvelope } from './common/errors/error-envelope';
import { arrangeDocument } from './common/openapi/arrange-document';
import { AppConfig } from './config/app-config';
import { ShutdownCoordinator } from './lifecycle/shutdown-coordinator';

const MAX_JSON_BODY = '256kb';

const BEARER_DESCRIPTION =
  'Send Authorization: Bearer <token>. The router accepts two kinds of token and tries each in turn: a frontend-minted login JWT (verified against the frontend JWKS; the person\'s org + role are read from it), or an api-key for a script/service (carrying a fixed set of gateway permissions). The bearerFormat: JWT label describes the person-login case.';

/**
 * Everything about the HTTP surface that is not a module: proxies, security headers, CORS, body
 * limits, logger, Swagger. Signals are main.ts's business (graceful shutdown), not this function's.
 */
export function configureApp(app: NestExpressApplication): OpenAPIObject {
  const config = app.get(AppConfig);
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', config.http.trustProxy);
  app.use(requestIdMiddleware);
  app.use(closeConnectionsWhileDraining(app.get(ShutdownCoordinator)));
  app.use(
    helmet({
      // Swagger UI at /docs loads its own scripts and styles from this origin only; plain-http local
      // development must not be told to upgrade them to https.
      contentSecurityPolicy: { useDefaults: true, directives: { upgradeInsecureRequests: null } },
    }),
  );
  if (config.http.corsOrigins) {
    app.enableCors({
      origin: config.http.corsOrigins === '*' ? '*' : config.http.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', REQUEST_ID_HEADER],
      exposedHeaders: [REQUEST_ID_HEADER, 'Retry-After', 'RateLimit', 'RateLimit-Policy'],
      maxAge: 600,
    });
  }
  app.use(rejectUndecodablePaths);
  app.useBodyParser('json', { limit: MAX_JSON_BODY });
  app.useBodyParser('urlencoded', { limit: MAX_JSON_BODY, extended: false });
  app.use(bodyParserErrors);
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, {
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

/** From SIGTERM on, every response asks the client to reconnect (through the Service, to a replica that stays). */
function closeConnectionsWhileDraining(shutdown: ShutdownCoordinator) {
  return (_request: Request, response: Response, next: NextFunction): void => {
    if (shutdown.isDraining) response.setHeader('Connection', 'close');
    next();
  };
}
