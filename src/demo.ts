import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { configureApp, createHttpAdapter, listenOn } from './app.setup';
import { ApiKeysService } from './auth/api-keys/api-keys.service';
import { AppConfig } from './config/app-config';
import { ConfigValidationError } from './config/environment';
import { startEmbeddedPostgres } from './database/embedded-postgres';
import { demoEventBatches } from './demo/demo-events';
import { SessionsService } from './sessions/sessions.service';
import { SYNC_EVENT_SINK, SyncEventSink } from './whatsapp-sync/sync-event-sink';

export const DEMO_ORG = 'demo-org';
export const DEMO_SESSION_NAME = 'Demo number (sample data, not a real WhatsApp account)';

/**
 * `npm run demo`: the gateway on the embedded PostgreSQL (or DATABASE_URL), with a demo org, a
 * session whose chats arrive through the same sync code path as a real phone's, and a fresh
 * `read` API key. Prints where to try it.
 */
async function main(): Promise<void> {
  let config = AppConfig.fromEnvironment();
  const embedded = config.database.url ? undefined : await startEmbeddedPostgres(config.database.embedded);
  if (embedded) config = AppConfig.fromEnvironment({ ...process.env, DATABASE_URL: embedded.url });

  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), createHttpAdapter(config), { bufferLogs: true, bodyParser: false });
  configureApp(app);
  if (embedded) process.once('exit', () => void embedded.stop());
  await listenOn(app, config.port, config.host);

  const sessionId = await ensureDemoSession(app);
  const key = await app.get(ApiKeysService).create(DEMO_ORG, ['read'], 'demo key');
  const base = `http://localhost:${config.port}`;
  console.log(
    [
      '',
      `Demo gateway on ${base} (organization "${DEMO_ORG}", sample data only)`,
      `  Swagger UI: ${base}/docs  (Authorize with the key below, then try "List chats")`,
      `  Session:    ${sessionId}`,
      `  API key:    ${key.key}`,
      '',
      'Try it:',
      `  curl -s "${base}/api/v1/sessions/${sessionId}/chats?limit=5" -H "Authorization: Bearer ${key.key}"`,
      '',
    ].join('\n'),
  );
}

async function ensureDemoSession(app: NestFastifyApplication): Promise<string> {
  const dataSource = app.get(DataSource);
  const [existing] = await dataSource.query('SELECT id FROM sessions WHERE org_id = $1 AND name = $2 ORDER BY id LIMIT 1', [
    DEMO_ORG,
    DEMO_SESSION_NAME,
  ]);
  const sessionId: string = existing?.id ?? (await app.get(SessionsService).create(DEMO_ORG, DEMO_SESSION_NAME)).id;
  // The same path a linked phone's events take; applying it again converges to the same copy.
  const sink = app.get<SyncEventSink>(SYNC_EVENT_SINK);
  for (const batch of demoEventBatches(Math.floor(Date.now() / 1000))) await sink.handle(sessionId, batch);
  return sessionId;
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigValidationError ? error.message : error);
  process.exit(1);
});
