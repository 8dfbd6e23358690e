import { dropDatabase } from './test-database';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as Record<string, unknown>).__testDatabase as
    | { serverUrl: string; name: string; stopEmbedded?: () => Promise<void> }
    | undefined;
  if (!state) return;
  if (!process.env.KEEP_TEST_DATABASE) await dropDatabase(state.serverUrl, state.name);
  await state.stopEmbedded?.();
}
