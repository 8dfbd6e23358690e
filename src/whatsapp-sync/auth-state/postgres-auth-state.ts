import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { AuthenticationCreds, AuthenticationState, SignalDataSet, SignalDataTypeMap, SignalKeyStore } from 'baileys' with { 'resolution-mode': 'import' };
import { DataSource, EntityManager } from 'typeorm';
import type { Baileys } from '../sync/baileys';
import { LeaseFence, LeaseFencing, LeaseLostError } from '../leases/lease-fence';
import { CredentialCipher } from './credential-cipher';

/** The parts of baileys the auth state needs (passed in: only the engine loads baileys). */
export type AuthStateRuntime = Pick<Baileys, 'initAuthCreds' | 'BufferJSON' | 'proto'>;

interface KeyRow {
  type: string;
  keyId: string;
  data: Buffer | null;
}

/**
 * Baileys' AuthenticationState kept in PostgreSQL: the creds in session_auth_creds, the signal keys
 * in session_auth_keys by (type, id), every value JSON-serialized the way Baileys does it and
 * encrypted with AES-256-GCM bound to its session and key. Nothing touches local disk, so any
 * replica can resume a session without a new QR scan.
 */
@Injectable()
export class PostgresAuthStateStore {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cipher: CredentialCipher,
    private readonly fencing: LeaseFencing,
  ) {}

  /**
   * The session's auth state, created (and saved) with fresh creds when there is none. Every write
   * is fenced by `fence` and fails with LeaseLostError once the lease moved on; `onLeaseLost` is
   * called then too, because Baileys swallows errors of some of its writes.
   */
  async open(fence: LeaseFence, runtime: AuthStateRuntime, onLeaseLost: () => void = () => undefined): Promise<PostgresAuthState> {
    const rows: { data: Buffer }[] = await this.dataSource.query(`SELECT data FROM session_auth_creds WHERE session_id = $1`, [fence.sessionId]);
    const creds: AuthenticationCreds = rows[0] ? this.decode(rows[0].data, credsContext(fence.sessionId), runtime) : runtime.initAuthCreds();
    const state = new PostgresAuthState(fence, creds, runtime, this, onLeaseLost);
    if (!rows[0]) await state.saveCreds();
    return state;
  }

  /** Deletes the session's creds and keys (logout). Fenced. */
  async wipe(fence: LeaseFence): Promise<void> {
    await this.fencing.run(fence, async (manager) => {
      await manager.query(`DELETE FROM session_auth_keys WHERE session_id = $1`, [fence.sessionId]);
      await manager.query(`DELETE FROM session_auth_creds WHERE session_id = $1`, [fence.sessionId]);
    });
  }

  async hasCredentials(sessionId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(`SELECT 1 FROM session_auth_creds WHERE session_id = $1`, [sessionId]);
    return rows.length > 0;
  }

  /** @internal */
  async writeCreds(fence: LeaseFence, creds: AuthenticationCreds, runtime: AuthStateRuntime): Promise<void> {
    const data = this.encode(creds, credsContext(fence.sessionId), runtime);
    await this.fencing.run(fence, (manager) =>
      manager.query(
        `INSERT INTO session_auth_creds (session_id, data, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (session_id) DO UPDATE SET data = EXCLUDED.data, updated_at = now()`,
        [fence.sessionId, data],
      ),
    );
  }

  /** @internal */
  async readKeys(sessionId: string, type: string, ids: string[], runtime: AuthStateRuntime): Promise<Map<string, unknown>> {
    const found = new Map<string, unknown>();
    if (ids.length === 0) return found;
    const rows: { key_id: string; data: Buffer }[] = await this.dataSource.query(
      `SELECT key_id, data FROM session_auth_keys WHERE session_id = $1 AND type = $2 AND key_id = ANY($3::text[])`,
      [sessionId, type, ids],
    );
    for (const row of rows) {
      let value = this.decode(row.data, keyContext(sessionId, type, row.key_id), runtime);
      if (type === 'app-state-sync-key' && value) value = runtime.proto.Message.AppStateSyncKeyData.fromObject(value);
      found.set(row.key_id, value);
    }
    return found;
  }

  /**
   * One transaction for the whole set: deletions, then one multi-row upsert. Rows go in (type, id)
   * order so that concurrent writers lock them in the same order and cannot deadlock.
   */
  async writeKeys(fence: LeaseFence, data: SignalDataSet, runtime: AuthStateRuntime): Promise<void> {
    const byKey = new Map<string, KeyRow>();
    for (const [type, values] of Object.entries(data)) {
      for (const [keyId, value] of Object.entries(values ?? {})) {
        const data = value === null || value === undefined ? null : this.encode(value, keyContext(fence.sessionId, type, keyId), runtime);
        byKey.set(`${type}\0${keyId}`, { type, keyId, data });
      }
    }
    if (byKey.size === 0) return;
    const rows = [...byKey.values()].sort((a, b) => (a.type === b.type ? compare(a.keyId, b.keyId) : compare(a.type, b.type)));
    const upserts = rows.filter((row) => row.data !== null);
    const deletes = rows.filter((row) => row.data === null);
    await this.fencing.run(fence, async (manager: EntityManager) => {
      if (deletes.length > 0) {
        await manager.query(
          `DELETE FROM session_auth_keys k USING unnest($2::text[], $3::text[]) AS d(type, key_id)
           WHERE k.session_id = $1 AND k.type = d.type AND k.key_id = d.key_id`,
          [fence.sessionId, deletes.map((row) => row.type), deletes.map((row) => row.keyId)],
        );
      }
      if (upserts.length > 0) {
        await manager.query(
          `INSERT INTO session_auth_keys (session_id, type, key_id, data)
           SELECT $1, u.type, u.key_id, u.data FROM unnest($2::text[], $3::text[], $4::bytea[]) WITH ORDINALITY AS u(type, key_id, data, ord)
           ORDER BY u.ord
           ON CONFLICT (session_id, type, key_id) DO UPDATE SET data = EXCLUDED.data`,
          [fence.sessionId, upserts.map((row) => row.type), upserts.map((row) => row.keyId), upserts.map((row) => row.data)],
        );
      }
    });
  }

  /** @internal */
  async clearKeys(fence: LeaseFence): Promise<void> {
    await this.fencing.run(fence, (manager) => manager.query(`DELETE FROM session_auth_keys WHERE session_id = $1`, [fence.sessionId]));
  }

  private encode(value: unknown, context: string, runtime: AuthStateRuntime): Buffer {
    return this.cipher.encrypt(Buffer.from(JSON.stringify(value, runtime.BufferJSON.replacer), 'utf8'), context);
  }

  private decode<T>(blob: Buffer, context: string, runtime: AuthStateRuntime): T {
    return JSON.parse(this.cipher.decrypt(blob, context).toString('utf8'), runtime.BufferJSON.reviver) as T;
  }
}

/** One session's auth state, as Baileys consumes it. Writes are applied in the order they were made. */
export class PostgresAuthState {
  readonly state: AuthenticationState;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly fence: LeaseFence,
    creds: AuthenticationCreds,
    private readonly runtime: AuthStateRuntime,
    private readonly store: PostgresAuthStateStore,
    private readonly onLeaseLost: () => void,
  ) {
    const keys: SignalKeyStore = {
      get: async <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
        const found = await this.store.readKeys(this.fence.sessionId, type, ids, this.runtime);
        return Object.fromEntries(ids.filter((id) => found.has(id)).map((id) => [id, found.get(id)])) as { [id: string]: SignalDataTypeMap[T] };
      },
      set: (data: SignalDataSet) => this.serialized(() => this.store.writeKeys(this.fence, data, this.runtime)),
      clear: () => this.serialized(() => this.store.clearKeys(this.fence)),
    };
    this.state = { creds, keys };
  }

  /** Saves the creds object Baileys mutates in place (call on every `creds.update`). Safe to pass around unbound. */
  readonly saveCreds = (): Promise<void> => this.serialized(() => this.store.writeCreds(this.fence, this.state.creds, this.runtime));

  /** Waits for every write made so far. */
  async flush(): Promise<void> {
    await this.writes.catch(() => undefined);
  }

  private serialized(write: () => Promise<void>): Promise<void> {
    const run = this.writes.then(write, write);
    this.writes = run.catch(() => undefined);
    return run.catch((error: unknown) => {
      if (error instanceof LeaseLostError) this.onLeaseLost();
      throw error;
    });
  }
}

function credsContext(sessionId: string): string {
  return `wa-auth:${sessionId}:creds`;
}

function keyContext(sessionId: string, type: string, keyId: string): string {
  return `wa-auth:${sessionId}:key:${type}:${keyId}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
