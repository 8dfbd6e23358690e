import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { ApiKeysService } from './auth/api-keys/api-keys.service';
import { AppConfig } from './config/app-config';
import { ConfigValidationError } from './config/environment';
import { startEmbeddedPostgres } from './database/embedded-postgres';
import { createHttpApp, listenOn } from './http/http-app';
import { SessionsService } from './sessions/sessions.service';
import { AdminApi } from './simulator/admin-api';
import { samplePhoneBook } from './simulator/phone-book';
import { WhatsAppSimulator } from './simulator/whatsapp-simulator';

export const DEMO_ORG = 'demo-org';
export const DEMO_SESSION_NAME = 'Demo number (sample data, not a real WhatsApp account)';
const DEMO_PHONE = '15550100000';
const LINK_TIMEOUT_MS = 120_000;
/** How often a simulated contact writes. */
const CHATTER_INTERVAL_MS = 20_000;
const CHATTY_CONTACTS = [
  { from: '14155550102', pushName: 'Bob', lines: ['Lunch tomorrow?', 'Running 5 minutes late', 'Did you see the game?'] },
  { from: '6281234567890', pushName: 'Alice', lines: ['Sent you the invoice', 'Thanks!', 'Call me when you can'] },
  { from: '33612345678', pushName: 'Fleur', lines: ['Bonjour !', 'On se voit ce soir ?'] },
];

/**
 * `npm run demo`: the gateway and the WhatsApp simulator (src/simulator) together, on the embedded
 * PostgreSQL (or DATABASE_URL). The demo session links through a simulated QR scan, its history
 * arrives through the real Baileys socket, and a simulated contact writes now and then. Prints
 * where to try it, a `read` API key and the simulator's admin API (to act as the phone).
 */
async function main(): Promise<void> {
  const simulator = await WhatsAppSimulator.start();
  const admin = await AdminApi.start(simulator);
  await simulator.createAccount({ phone: DEMO_PHONE, pushName: 'Demo phone', phoneBook: samplePhoneBook(Math.floor(Date.now() / 1000)) });

  const simulatorSettings = {
    WHATSAPP_WS_URL: simulator.url,
    WHATSAPP_SIMULATOR_ROOT_KEY: simulator.rootPublicKeyHex,
    WHATSAPP_SIMULATOR_MEDIA_CA: simulator.mediaCertificatePem,
  };
  let config = AppConfig.fromEnvironment({ ...process.env, ...simulatorSettings });
  const embedded = config.database.url ? undefined : await startEmbeddedPostgres(config.database.embedded);
  if (embedded) config = AppConfig.fromEnvironment({ ...process.env, ...simulatorSettings, DATABASE_URL: embedded.url });

  const app = await createHttpApp(AppModule.forRoot(config), config, { bufferLogs: true });
  if (embedded) process.once('exit', () => void embedded.stop());
  await listenOn(app, config.port, config.host);

  const sessionId = await linkDemoSession(app, simulator);
  const key = await app.get(ApiKeysService).create(DEMO_ORG, ['read'], 'demo key');
  startChatter(simulator);
  const base = `http://localhost:${config.port}`;
  console.log(
    [
      '',
      `Demo gateway on ${base} (organization "${DEMO_ORG}", a simulated phone, not WhatsApp)`,
      `  Swagger UI: ${base}/docs  (Authorize with the key below, then try "List chats")`,
      `  Session:    ${sessionId}`,
      `  API key:    ${key.key}`,
      `  Phone:      +${DEMO_PHONE}, simulated; act as it through ${admin.url} (see README, "WhatsApp simulator")`,
      '',
      'Try it:',
      `  curl -s "${base}/api/v1/sessions/${sessionId}/chats?limit=5" -H "Authorization: Bearer ${key.key}"`,
      '',
    ].join('\n'),
  );
}

/**
 * A fresh demo session each run (the simulator keeps its phones in memory, so an earlier run's
 * link is gone): earlier demo sessions are removed, a new one starts, its QR is scanned by the
 * simulated phone, and the call returns once the phone's history is in the stored copy.
 */
async function linkDemoSession(app: INestApplication, simulator: WhatsAppSimulator): Promise<string> {
  const sessions = app.get(SessionsService);
  const dataSource = app.get(DataSource);
  const earlier: { id: string }[] = await dataSource.query('SELECT id FROM sessions WHERE org_id = $1 AND name = $2', [DEMO_ORG, DEMO_SESSION_NAME]);
  for (const { id } of earlier)
    await sessions.delete(DEMO_ORG, id).catch((error: Error) => console.warn(`could not remove the earlier demo session ${id}: ${error.message}`));

  const { id } = await sessions.create(DEMO_ORG, DEMO_SESSION_NAME);
  await sessions.start(DEMO_ORG, id);
  const deadline = Date.now() + LINK_TIMEOUT_MS;
  const until = async <T>(probe: () => Promise<T | undefined>, what: string): Promise<T> => {
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`the demo session did not ${what} within ${LINK_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const qr = await until(
    () =>
      sessions.currentQr(DEMO_ORG, id).then(
        (view) => view.qr,
        () => undefined,
      ),
    'show a QR code',
  );
  await simulator.scan(qr, DEMO_PHONE);
  const expected = simulator.account(DEMO_PHONE).chats.size;
  await until(async () => {
    const [{ count }] = await dataSource.query<{ count: number }[]>('SELECT count(*)::int AS count FROM chats WHERE session_id = $1', [id]);
    const { status } = await sessions.get(DEMO_ORG, id);
    return status === 'connected' && count >= expected ? true : undefined;
  }, 'receive its history');
  return id;
}

/** A simulated contact writes now and then, so List chats changes while someone watches. */
function startChatter(simulator: WhatsAppSimulator): void {
  let turn = 0;
  setInterval(() => {
    const contact = CHATTY_CONTACTS[turn % CHATTY_CONTACTS.length];
    const text = contact.lines[Math.floor(turn / CHATTY_CONTACTS.length) % contact.lines.length];
    turn++;
    simulator
      .sendMessage({ to: DEMO_PHONE, from: contact.from, pushName: contact.pushName, text })
      .catch((error: Error) => console.warn(`simulated message failed: ${error.message}`));
  }, CHATTER_INTERVAL_MS).unref();
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigValidationError ? error.message : error);
  process.exit(1);
});
