import type { EntityManager } from 'typeorm';

/** The session a sync write is for no longer exists (deleted while its events were queued). */
export class SyncSessionNotFoundError extends Error {
  constructor(readonly sessionId: string) {
    super(`session ${sessionId} not found`);
    this.name = 'SyncSessionNotFoundError';
  }
}

/**
 * One transaction of sync writes for one session. Every statement gets the session id as $1:
 * there is no way to run a query through it that is not scoped to the session.
 */
export class SessionTx {
  constructor(
    readonly sessionId: string,
    private readonly manager: EntityManager,
  ) {}

  query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.manager.query(sql, [this.sessionId, ...params]);
  }
}

// Rows go in as one json parameter read by json_to_recordset: json, not jsonb, because jsonb_in
// would first build (and key-sort) a binary copy of the whole batch, a tenth of the chat upsert.
export const jsonRows = (rows: unknown[]): string => JSON.stringify(rows);
