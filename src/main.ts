// First: V8 settings that must hold before any code runs (see the module).
import './lifecycle/heap-settings';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { AddressInfo, Server } from 'node:net';
import { AppModule } from './app.module';
import { AppConfig } from './config/app-config';
import { startEmbeddedPostgres } from './database/embedded-postgres';
import { createHttpApp, listenOn } from './http/http-app';
import { installGracefulShutdown } from './lifecycle/graceful-shutdown';
import { describeStartupFailure } from './lifecycle/startup-failure';

async function bootstrap(): Promise<void> {
  let config = AppConfig.forServer();
  // No DATABASE_URL: run a real PostgreSQL embedded in the project folder, so `npm start` works anywhere.
  const embedded = config.database.url ? undefined : await startEmbeddedPostgres(config.database.embedded);
  if (embedded) config = AppConfig.forServer({ ...process.env, DATABASE_URL: embedded.url });

  // The HTTP server is HTTP_PLATFORM's (Express by default); everything about it lives in src/http/.
  const app = await createHttpApp(AppModule.forRoot(config), config, { bufferLogs: true });
  // SIGTERM/SIGINT: drain, clean up, close the pool, stop the embedded database, exit 0.
  installGracefulShutdown(app, {
    delayMs: config.shutdown.delayMs,
    graceMs: config.shutdown.graceMs,
    exit: (code) => {
      void (embedded ? embedded.stop().catch(() => undefined) : Promise.resolve()).then(() => process.exit(code));
    },
  });
  await listenOn(app, config.port, config.host);

  const port = ((app.getHttpServer() as Server).address() as AddressInfo).port;
  new Logger('Gateway').log({ httpPlatform: config.http.platform, port }, `listening on port ${port} (${config.http.platform})`);
  // Development (a terminal, or the embedded database) gets the getting-started banner.
  if (config.log.pretty || embedded) {
    const base = `http://localhost:${port}`;
    console.log(
      [
        '',
        `WhatsApp Gateway is listening on ${base}`,
        `  Swagger UI:   ${base}/docs`,
        `  OpenAPI JSON: ${base}/docs-json`,
        '  Create an API key for your org (shown once):',
        '    npm run cli -- api-key create --org my-org --capabilities read --name my-script',
        '',
      ].join('\n'),
    );
  }
}

// A promise rejected with no handler (Baileys can leak one from a closing socket) is logged, not
// fatal: crashing would drop every WhatsApp connection this replica holds.
process.on('unhandledRejection', (reason) => new Logger('Process').error({ err: reason }, 'unhandled promise rejection'));

bootstrap().catch((error: unknown) => {
  console.error(describeStartupFailure(error));
  process.exit(1);
});
