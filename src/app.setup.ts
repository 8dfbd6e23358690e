import { INestApplication } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { BEARER_SCHEME } from './auth/require-capability.decorator';

const MAX_JSON_BODY = '256kb';

const BEARER_DESCRIPTION =
  'Send Authorization: Bearer <token>. The router accepts two kinds of token and tries each in turn: a frontend-minted login JWT (verified against the frontend JWKS; the person\'s org + role are read from it), or an api-key for a script/service (carrying a fixed set of gateway permissions). The bearerFormat: JWT label describes the person-login case.';

/** Everything about the HTTP surface that is not a module: prefix, body limits, logger, Swagger. */
export function configureApp(app: NestExpressApplication): OpenAPIObject {
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.set('etag', false);
  app.useBodyParser('json', { limit: MAX_JSON_BODY });
  app.useBodyParser('urlencoded', { limit: MAX_JSON_BODY, extended: false });
  app.enableShutdownHooks();
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
    .addTag('Sessions', 'Attached WhatsApp numbers: create, link by QR or pairing code, connect, disconnect, log out.')
    .addTag('Chats', "A session's chats, served from the stored copy.")
    .addTag('API keys', "The organization's API keys for scripts and services.")
    .build();
  return SwaggerModule.createDocument(app, config, { operationIdFactory: (_controller, method) => method });
}
