import { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import type { Capability } from '../../src/common/capabilities';
import { dataSourceOptions } from '../../src/database/data-source.options';
import { LeaseManager } from '../../src/whatsapp-sync/leases/lease-manager';
import { IsolatedDatabase, isolatedDatabase } from '../support/isolated-database';
import { TestApp, Tenant } from '../support/test-app';
import { forkTsScript } from '../support/ts-process';
import { waitFor } from '../support/wait-for';

const ALL: Capability[] = ['read', 'send', 'manage', 'admin'];
const SESSIONS = 6;
// Long enough that a replica starved of CPU still renews in time: at 1,500 / 250 ms the in-process
// replica lost its own leases over and over while three CI runs shared the machine (load 8), and
// never held all six at once for the 60 s a test waits.
const TTL_MS = 5000;
const RENEW_MS = 500;
const JITTER_MS = 250;
/** The takeover bound these settings promise: the lease expires, a scan runs, the jitter passes. */
const TAKEOVER_BOUND_MS = TTL_MS + RENEW_MS * 1.1 + JITTER_MS;
/**
 * How long a test waits for a state to be reached before failing. Generous on purpose: on a loaded
 * machine the in-process replica and the forked one are starved of CPU (seen here: 20 s passed at
 * load 15). The takeover bound itself is measured and reported (REPORT_TIMINGS), never asserted.
 */
const CONDITION_BOUND_MS = 60_000;

const REPLICA_ENV = {
  SESSION_CAPACITY: '10',
  SESSION_LEASE_TTL_MS: String(TTL_MS),
  SESSION_LEASE_RENEW_INTERVAL_MS: String(RENEW_MS),
  SESSION_TAKEOVER_JITTER_MS: String(JITTER_MS),
  SESSION_COMMAND_POLL_MS: '50',
  RECONNECT_BASE_DELAY_MS: '200',
  RECONNECT_MAX_DELAY_MS: '1000',
};

/**
 * Audit triggers, in this test's database only: every change of a lease row, and every write a
 * connection makes (status after a disconnect, credentials) with the writer (application_name
 * carries the replica id) and the lease as it stood when the write committed.
 */
const AUDIT = [
  `CREATE TABLE lease_audit (seq bigserial, tx_at timestamptz, op text, session_id text,
     old_owner text, old_epoch bigint, old_expires timestamptz, new_owner text, new_epoch bigint, new_expires timestamptz)`,
  `CREATE FUNCTION audit_lease() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
     INSERT INTO lease_audit (tx_at, op, session_id, old_owner, old_epoch, old_expires, new_owner, new_epoch, new_expires)
     VALUES (now(), TG_OP, NEW.session_id, OLD.owner, OLD.epoch, OLD.expires_at, NEW.owner, NEW.epoch, NEW.expires_at);
     RETURN NEW; END $$`,
  `CREATE TRIGGER audit_lease AFTER INSERT OR UPDATE ON session_leases FOR EACH ROW EXECUTE FUNCTION audit_lease()`,
  `CREATE TABLE write_audit (seq bigserial, what text, writer text, session_id text, lease_owner text, lease_epoch bigint)`,
  `CREATE FUNCTION audit_write() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE sid text; BEGIN
     sid := CASE WHEN TG_TABLE_NAME = 'sessions' THEN to_jsonb(NEW) ->> 'id'
                 ELSE COALESCE(to_jsonb(NEW) ->> 'session_id', to_jsonb(OLD) ->> 'session_id') END;
     INSERT INTO write_audit (what, writer, session_id, lease_owner, lease_epoch)
     SELECT TG_TABLE_NAME || ':' || TG_OP, current_setting('application_name'), sid, l.owner, l.epoch
     FROM (SELECT 1) one LEFT JOIN session_leases l ON l.session_id = sid;
     RETURN NULL; END $$`,
  // Only what a holder writes: a disconnect report (an API call never touches last_disconnect_at).
  `CREATE TRIGGER audit_status AFTER UPDATE ON sessions FOR EACH ROW
     WHEN (NEW.last_disconnect_at IS DISTINCT FROM OLD.last_disconnect_at AND NEW.desired_state = OLD.desired_state)
     EXECUTE FUNCTION audit_write()`,
  `CREATE TRIGGER audit_creds AFTER INSERT OR UPDATE OR DELETE ON session_auth_creds FOR EACH ROW EXECUTE FUNCTION audit_write()`,
  `CREATE TRIGGER audit_keys AFTER INSERT OR UPDATE OR DELETE ON session_auth_keys FOR EACH ROW EXECUTE FUNCTION audit_write()`,
];

/** A replica in its own process, driven over IPC. */
class ChildReplica {
  private nextId = 0;
  private constructor(
    readonly process: ChildProcess,
    readonly replicaId: string,
  ) {}

  static async start(env: Record<string, string>): Promise<ChildReplica> {
    const child = forkTsScript('test/support/replica-process.ts', env);
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const [ready] = await Promise.race([
      once(child, 'message') as Promise<[{ type: string; replicaId: string }]>,
      once(child, 'exit').then(() => Promise.reject(new Error(`replica process exited: ${stderr}`))),
    ]);
    return new ChildReplica(child, ready.replicaId);
  }

  async held(): Promise<string[]> {
    const id = ++this.nextId;
    const reply = new Promise<string[]>((resolve) => {
      const onMessage = (message: { id?: number; held?: string[] }) => {
        if (message.id !== id) return;
        this.process.off('message', onMessage);
        resolve(message.held!);
      };
      this.process.on('message', onMessage);
    });
    this.process.send({ id, type: 'held' });
    return reply;
  }

  signal(signal: NodeJS.Signals): void {
    this.process.kill(signal);
  }

  async exited(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    await once(this.process, 'exit');
  }
}

describe('Session leases across replicas', () => {
  // Each test may wait on several states (CONDITION_BOUND_MS each) and start a replica process.
  jest.setTimeout(3 * CONDITION_BOUND_MS);
  let database: IsolatedDatabase;
  let db: DataSource;
  let a: TestApp;
  let b: ChildReplica | undefined;
  let tenant: Tenant;
  let sessionIds: string[];
  const measured: Record<string, number> = {};

  beforeAll(async () => {
    database = await isolatedDatabase();
    db = await new DataSource(dataSourceOptions({ url: database.url, applicationName: 'lease-test-observer' })).initialize();
    for (const statement of AUDIT) await db.query(statement);
    a = await TestApp.start({ ...REPLICA_ENV, DATABASE_URL: database.url, REPLICA_ID: 'replica-a' });
  });
  afterAll(async () => {
    if (b && b.process.exitCode === null && b.process.signalCode === null) {
      b.signal('SIGKILL');
      await b.exited();
    }
    await a?.close();
    await db?.destroy();
    await database?.drop();
    if (process.env.REPORT_TIMINGS) process.stdout.write(`lease test timings (ms): ${JSON.stringify(measured)}; bound ${TAKEOVER_BOUND_MS}\n`);
  });

  /** Live lease owner of each session, by the database's clock. */
  async function owners(): Promise<Map<string, string | null>> {
    const rows: { id: string; owner: string | null }[] = await db.query(
      `SELECT s.id, CASE WHEN l.expires_at > now() THEN l.owner END AS owner
       FROM sessions s LEFT JOIN session_leases l ON l.session_id = s.id WHERE s.id = ANY($1)`,
      [sessionIds],
    );
    return new Map(rows.map((row) => [row.id, row.owner]));
  }

  async function counts(): Promise<Record<string, number>> {
    const result: Record<string, number> = {};
    for (const owner of (await owners()).values()) result[owner ?? 'none'] = (result[owner ?? 'none'] ?? 0) + 1;
    return result;
  }

  const heldByA = () =>
    a.app
      .get(LeaseManager)
      .heldSessionIds()
      .filter((id) => sessionIds.includes(id));

  /**
   * Every session held by exactly one replica, as the database and as the replicas themselves see
   * it. Waited for, not read once: on a loaded machine a replica that renewed late gives a lease up
   * locally (safely) before the database lets it expire, and claims it again on its next scan, so
   * one look can catch the two views a moment apart.
   */
  async function expectExactlyOneHolderEach(replicas: { id: string; held: () => Promise<string[]> | string[] }[]): Promise<void> {
    const disagreements = async () => {
      const byDatabase = await owners();
      const local = await Promise.all(replicas.map(async (replica) => ({ id: replica.id, held: await replica.held() })));
      return sessionIds
        .map((sessionId) => ({
          sessionId,
          database: byDatabase.get(sessionId),
          believers: local.filter((replica) => replica.held.includes(sessionId)).map((replica) => replica.id),
        }))
        .filter(({ database, believers }) => believers.length !== 1 || believers[0] !== database);
    };
    let last: Awaited<ReturnType<typeof disagreements>> = [];
    try {
      await waitFor(async () => ((last = await disagreements()).length === 0 ? true : undefined), CONDITION_BOUND_MS);
    } catch {
      expect(last).toEqual([]);
    }
  }

  /** Waits for the sessions to split evenly between replicas a and b, then checks each has exactly one holder. */
  async function expectEvenSpreadOverAAndB(): Promise<void> {
    await waitFor(async () => {
      const current = await counts();
      return current['replica-a'] === SESSIONS / 2 && current['replica-b'] === SESSIONS / 2;
    }, CONDITION_BOUND_MS);
    await expectExactlyOneHolderEach([
      { id: 'replica-a', held: heldByA },
      { id: 'replica-b', held: () => b!.held() },
    ]);
  }

  async function waitForTakeoverBy(owner: string, label: string, from: number): Promise<void> {
    await waitFor(async () => (await counts())[owner] === SESSIONS, CONDITION_BOUND_MS, 25);
    measured[label] = Math.round(performance.now() - from);
  }

  it('spreads the sessions fairly: each is held by exactly one replica', async () => {
    tenant = await a.createTenant(ALL);
    sessionIds = [tenant.sessionId];
    await a.request(`/api/v1/sessions/${tenant.sessionId}/start`, { token: tenant.apiKey, method: 'POST' });
    b = await ChildReplica.start({ ...REPLICA_ENV, DATABASE_URL: database.url, REPLICA_ID: 'replica-b' });
    for (let i = 1; i < SESSIONS; i++) {
      const created = await a.request('/api/v1/sessions', {
        token: tenant.apiKey,
        method: 'POST',
        body: JSON.stringify({ name: `number ${i}` }),
        headers: { 'content-type': 'application/json' },
      });
      sessionIds.push(created.body.id);
    }
    await expectEvenSpreadOverAAndB();
    // GET /sessions/{id} names the holder, whichever replica answers.
    const { body } = await a.request(`/api/v1/sessions?limit=50`, { token: tenant.apiKey });
    expect(new Set(body.data.map((session: { heldBy: string }) => session.heldBy))).toEqual(new Set(['replica-a', 'replica-b']));
  });

  it('a paused replica loses its sessions to the other within the bound, and stands down when it resumes', async () => {
    b!.signal('SIGSTOP');
    const pausedAt = performance.now();
    try {
      await waitForTakeoverBy('replica-a', 'takeoverFromPausedReplica', pausedAt);
    } finally {
      b!.signal('SIGCONT');
    }
    // Back from the pause, b finds its leases gone and drops its connections, without a write.
    await waitFor(async () => (await b!.held()).filter((id) => sessionIds.includes(id)).length === 0 || undefined, CONDITION_BOUND_MS);
    // b is live again: the sessions spread back over both.
    await expectEvenSpreadOverAAndB();
  });

  it('a killed replica: the other takes every session over within the bound', async () => {
    b!.signal('SIGKILL');
    const killedAt = performance.now();
    await b!.exited();
    await waitForTakeoverBy('replica-a', 'takeoverFromKilledReplica', killedAt);
    await expectExactlyOneHolderEach([{ id: 'replica-a', held: heldByA }]);
  });

  it('a replica shutting down (app.close(), what SIGTERM runs) releases its leases at once, without waiting for expiry', async () => {
    const c = await TestApp.start({ ...REPLICA_ENV, DATABASE_URL: database.url, REPLICA_ID: 'replica-c' });
    try {
      await waitFor(async () => (await counts())['replica-c'] === SESSIONS / 2, CONDITION_BOUND_MS);
    } finally {
      const closingAt = performance.now();
      await c.close();
      measured.releaseOnShutdown = Math.round(performance.now() - closingAt);
    }
    // Every lease c still held when it closed was given up by the close, none left to expire. (How many
    // that is may be fewer than it reached: on a loaded machine a lease can move on before the close.)
    const [{ live }]: { live: number }[] = await db.query(`SELECT count(*)::int AS live FROM session_leases WHERE owner = 'replica-c' AND expires_at > now()`);
    expect(live).toBe(0);
    const releasedByC: { n: string }[] = await db.query(
      `SELECT count(*) AS n FROM lease_audit WHERE old_owner = 'replica-c' AND new_owner IS NULL AND new_expires < old_expires`,
    );
    expect(Number(releasedByC[0].n)).toBeGreaterThanOrEqual(1);
    const handedBack = performance.now();
    await waitForTakeoverBy('replica-a', 'takeoverAfterRelease', handedBack);
  });

  it('never held twice: every claim came after the previous lease expired or was released, and every write was made by the lease holder', async () => {
    const claims: { session_id: string; old_owner: string | null; old_epoch: string | null; new_epoch: string; expired: boolean; released: boolean }[] =
      await db.query(
        `SELECT session_id, old_owner, old_epoch::text, new_epoch::text,
                old_expires <= tx_at AS expired, old_owner IS NULL AS released
         FROM lease_audit WHERE op = 'INSERT' OR new_epoch <> old_epoch ORDER BY seq`,
      );
    expect(claims.length).toBeGreaterThanOrEqual(SESSIONS * 3);
    for (const claim of claims) {
      if (claim.old_epoch === null) {
        expect(claim.new_epoch).toBe('1');
        continue;
      }
      expect({ ...claim, ok: claim.expired || claim.released }).toMatchObject({ ok: true });
      expect(Number(claim.new_epoch)).toBe(Number(claim.old_epoch) + 1);
    }
    // Renewals and releases never change the owner to someone else or the epoch.
    const otherChanges: unknown[] = await db.query(
      `SELECT * FROM lease_audit WHERE op = 'UPDATE' AND new_epoch = old_epoch AND new_owner IS NOT NULL AND new_owner IS DISTINCT FROM old_owner`,
    );
    expect(otherChanges).toEqual([]);

    const writes: { what: string; writer: string; lease_owner: string | null }[] = await db.query(`SELECT what, writer, lease_owner FROM write_audit`);
    expect(writes.length).toBeGreaterThan(SESSIONS);
    const foreign = writes.filter((write) => write.writer !== `whatsapp-gateway/${write.lease_owner}`);
    expect(foreign).toEqual([]);
  });
});
