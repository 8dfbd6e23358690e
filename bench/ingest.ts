/**
 * Item 5 of the benchmark: applying a Baileys history-sync batch of 100,000 chats through the real
 * sync code path, in chats/s, against a naive one-row-at-a-time upsert in the same run.
 *
 * Not measured yet: the sync code path (the SyncEventSink implementation that writes the stored
 * copy) has not landed on this branch. When it does, implement `runIngestBenchmark` against a
 * fresh session of the bench database (context.databaseUrl) and return an `IngestMeasurement`;
 * run.ts already prints it and writes it to latest.json, and checks the targets
 * (>= 20,000 chats/s and >= 10 x the naive baseline).
 */
export interface IngestMeasurement {
  chats: number;
  gatewayChatsPerSecond: number;
  naiveChatsPerSecond: number;
}

export type IngestResult = { measured: IngestMeasurement } | { skipped: string };

export interface IngestContext {
  databaseUrl: string;
  orgId: string;
}

export async function runIngestBenchmark(_context: IngestContext): Promise<IngestResult> {
  return { skipped: 'the sync code path (history-sync batch -> stored copy) has not landed yet' };
}
