/**
 * Run as its own process (`node -r ts-node/register/transpile-only`): opens the auth state of one
 * session from PostgreSQL with a fresh DataSource and prints it as Baileys-JSON on stdout.
 * Env: DATABASE_URL, SESSION_ID, OWNER, EPOCH, KEY_HEX, KEY_IDS (JSON { type: [ids] }).
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source.options';
import { CredentialCipher } from '../../src/whatsapp-sync/auth-state/credential-cipher';
import { PostgresAuthStateStore } from '../../src/whatsapp-sync/auth-state/postgres-auth-state';
import { loadBaileys } from '../../src/whatsapp-sync/sync/baileys';
import { LeaseFencing } from '../../src/whatsapp-sync/leases/lease-fence';

async function main(): Promise<void> {
  const env = process.env as Record<string, string>;
  const baileys = await loadBaileys();
  const dataSource = await new DataSource(dataSourceOptions({ url: env.DATABASE_URL })).initialize();
  try {
    const store = new PostgresAuthStateStore(dataSource, new CredentialCipher(Buffer.from(env.KEY_HEX, 'hex')), new LeaseFencing(dataSource));
    const { state } = await store.open({ sessionId: env.SESSION_ID, owner: env.OWNER, epoch: env.EPOCH }, baileys);
    const keys: Record<string, unknown> = {};
    for (const [type, ids] of Object.entries(JSON.parse(env.KEY_IDS) as Record<string, string[]>)) {
      keys[type] = await state.keys.get(type as 'pre-key', ids);
    }
    const appStateKey = Object.values((keys['app-state-sync-key'] ?? {}) as Record<string, unknown>)[0];
    process.stdout.write(
      JSON.stringify(
        { pid: process.pid, creds: state.creds, keys, appStateKeyIsProto: appStateKey instanceof baileys.proto.Message.AppStateSyncKeyData },
        baileys.BufferJSON.replacer,
      ),
    );
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error) => {
  process.stderr.write(String(error?.stack ?? error));
  process.exit(1);
});
