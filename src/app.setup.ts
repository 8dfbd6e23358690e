import { INestApplication } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { BEARER_SCHEME } from './auth/require-capability.decorator';
import { REQUEST_ID_HEADER } from './common/http/request-id';
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
  app.useBodyParser('json', { limit: MAX_JSON_BODY });
  app.useBodyParser('urlencoded', { limit: MAX_JSON_BODY, extended: false });
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'WhatsApp Gateway API',
    swaggerOptions: { persistAuthorization: true, displayRequestDuration: true, tagsSorter: 'alpha' },
  });
  return document;
}

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('WhatsApp Gateway')
    .setDescription(
      "A multi-tenant WhatsApp gateway: attach WhatsApp numbers (sessions) to your organization and read each number's chats from the gateway's stored copy, kept in sync with WhatsApp. Every error uses the envelope `{ \"error\": { \"code\", \"message\", \"details\" } }`.",
    )
    .setVersion('1.0.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: BEARER_DESCRIPTION }, BEARER_SCHEME)
    .addTag('Chats', "A session's chats, served from the stored copy.")
    .build();
  return SwaggerModule.createDocument(app, config, { operationIdFactory: (_controller, method) => method });
}

/** From SIGTERM on, every response asks the client to reconnect (through the Service, to a replica that stays). */
function closeConnectionsWhileDraining(shutdown: ShutdownCoordinator) {
  return (_request: Request, response: Response, next: NextFunction): void => {
    if (shutdown.isDraining) response.setHeader('Connection', 'close');
    next();
  };
}
