import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminApi } from './admin-api';
import { WhatsAppSimulator } from './whatsapp-simulator';

/**
 * `node dist/simulator/main.js`: the WhatsApp simulator on its own, for trying the gateway by hand.
 * SIMULATOR_HOST (127.0.0.1), SIMULATOR_PORT (WebSocket, 0 = any), SIMULATOR_ADMIN_PORT (0 = any).
 * Prints the settings the gateway needs and the admin API's address.
 */
async function main(): Promise<void> {
  const host = process.env.SIMULATOR_HOST ?? '127.0.0.1';
  const simulator = await WhatsAppSimulator.start({
    host,
    port: Number(process.env.SIMULATOR_PORT ?? 0),
    log: (line) => console.log(`[simulator] ${line}`),
  });
  const admin = await AdminApi.start(simulator, { host, port: Number(process.env.SIMULATOR_ADMIN_PORT ?? 0) });
  // The media host's certificate, for WHATSAPP_SIMULATOR_MEDIA_CA (a PEM does not fit on one line).
  const mediaCa = join(tmpdir(), `whatsapp-simulator-media-${process.pid}.pem`);
  writeFileSync(mediaCa, simulator.mediaCertificatePem);
  console.log(
    [
      'WhatsApp simulator (not WhatsApp: a local stand-in for tests and demos)',
      `  gateway settings: WHATSAPP_WS_URL=${simulator.url} WHATSAPP_SIMULATOR_ROOT_KEY=${simulator.rootPublicKeyHex} WHATSAPP_SIMULATOR_MEDIA_CA="$(cat ${mediaCa})"`,
      `  admin API:        ${admin.url}  (POST /accounts, POST /accounts/{phone}/scan, GET /devices, ...)`,
    ].join('\n'),
  );
  const stop = () => void Promise.all([admin.close(), simulator.stop()]).then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
