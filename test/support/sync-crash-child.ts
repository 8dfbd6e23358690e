/**
 * The process the crash test kills: the gateway's sync (CliModule: config, database, sync store;
 * no HTTP) applying one large history batch for a session. Prints "applying" once it starts.
 *   node -r ts-node/register/transpile-only test/support/sync-crash-child.ts SESSION_ID COUNT
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { CliModule } from '../../src/cli/cli.module';
import { AppConfig } from '../../src/config/app-config';
import { loadBaileys } from '../../src/whatsapp-sync/sync/baileys';
import { SYNC_EVENT_SINK, SyncEventSink } from '../../src/whatsapp-sync/sync-event-sink';
import { crashHistoryBatch } from './crash-batch';

async function main(): Promise<void> {
  const [sessionId, count] = process.argv.slice(2);
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(AppConfig.fromEnvironment()), { logger: false });
  const batch = crashHistoryBatch(await loadBaileys(), Number(count));
  process.stdout.write('applying\n');
  await app.get<SyncEventSink>(SYNC_EVENT_SINK).handle(sessionId, batch);
  process.stdout.write('done\n');
  await app.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
