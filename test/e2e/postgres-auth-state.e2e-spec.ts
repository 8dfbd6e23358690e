import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ulid } from 'ulid';
import { AppConfig } from '../../src/config/app-config';
import { dataSourceOptions } from '../../src/database/data-source.options';
import { CredentialCipher, CredentialsUnreadableError } from '../../src/whatsapp-sync/auth-state/credential-cipher';
import { PostgresAuthState, PostgresAuthStateStore } from '../../src/whatsapp-sync/auth-state/postgres-auth-state';
import { Baileys, loadBaileys } from '../../src/whatsapp-sync/sync/baileys';
import { LeaseFence, LeaseFencing, LeaseLostError } from '../../src/whatsapp-sync/leases/lease-fence';
import { LeasesRepository } from '../../src/whatsapp-sync/leases/leases.repository';
import { runTsScript } from '../support/ts-process';
import { waitFor } from '../support/wait-for';

describe('Postgres-backed Baileys auth state', () => {
  let baileys: Baileys;
  let dataSource: DataSource;
  let leases: LeasesRepository;
  let store: PostgresAuthStateStore;
  const key = randomBytes(32);

  beforeAll(async () => {
    baileys = await loadBaileys();
    dataSource = await new DataSource(dataSourceOptions({ url: process.env.DATABASE_URL! })).initialize();
    leases = new LeasesRepository(dataSource, AppConfig.fromEnvironment({}));
    store = new PostgresAuthStateStore(dataSource, new CredentialCipher(key), new LeaseFencing(dataSource));
  });
  afterAll(async () => {
    await dataSource.destroy();
  });

  /** A session row and this test's lease on it. */
  async function leasedSession(owner = 'replica-a'): Promise<LeaseFence> {
    const id = ulid();
    await dataSource.query(`INSERT INTO sessions (id, org_id, name) VALUES ($1, 'org-auth-state', 'auth state')`, [id]);
    return (await leases.claim(id, owner, 60_000, false))!;
  }

  /** Another replica takes the lease over (the first one's expired). */
  async function takeOver(fence: LeaseFence, owner = 'replica-b'): Promise<LeaseFence> {
    await dataSource.query(`UPDATE session_leases SET expires_at = now() WHERE session_id = $1`, [fence.sessionId]);
    return (await leases.claim(fence.sessionId, owner, 60_000, false))!;
  }

  const serialize = (value: unknown) => JSON.parse(JSON.stringify(value, baileys.BufferJSON.replacer));

  it('writes creds and every kind of key, and another process reads them back identical', async () => {
    const fence = await leasedSession();
    const { state, saveCreds } = await openState(fence);
    state.creds.me = { id: '6281234567890:7@s.whatsapp.net', name: 'Alice' };
    state.creds.registered = true;
    await saveCreds();
    const preKey = baileys.Curve.generateKeyPair();
    const appStateKey = baileys.proto.Message.AppStateSyncKeyData.fromObject({
      keyData: randomBytes(32),
      fingerprint: { rawId: 7, currentIndex: 1, deviceIndexes: [0, 1] },
      timestamp: 1_719_662_400,
    });
    await state.keys.set({
      'pre-key': { '1': preKey, '2': baileys.Curve.generateKeyPair() },
      session: { '6281234567890.0': randomBytes(120) },
      'sender-key': { 'group@g.us::628::0': randomBytes(64) },
      'sender-key-memory': { 'group@g.us': { '628@s.whatsapp.net': true } },
      'app-state-sync-key': { AAAAAQ: appStateKey },
      'app-state-sync-version': { regular: { version: 3, hash: randomBytes(128), indexValueMap: { abc: { valueMac: randomBytes(32) } } } },
      'lid-mapping': { '6281234567890': '123456789@lid' },
      'device-list': { '6281234567890': ['0', '7'] },
    });

    const output = await runTsScript('test/support/auth-state-reader.ts', {
      DATABASE_URL: process.env.DATABASE_URL!,
      SESSION_ID: fence.sessionId,
      OWNER: fence.owner,
      EPOCH: fence.epoch,
      KEY_HEX: key.toString('hex'),
      KEY_IDS: JSON.stringify({
        'pre-key': ['1', '2', '3'],
        session: ['6281234567890.0'],
        'sender-key': ['group@g.us::628::0'],
        'sender-key-memory': ['group@g.us'],
        'app-state-sync-key': ['AAAAAQ'],
        'app-state-sync-version': ['regular'],
        'lid-mapping': ['6281234567890'],
        'device-list': ['6281234567890'],
      }),
    });
    const read = JSON.parse(output);
    expect(read.pid).not.toBe(process.pid);
    expect(read.creds).toEqual(serialize(state.creds));
    expect(read.creds.me).toEqual({ id: '6281234567890:7@s.whatsapp.net', name: 'Alice' });
    expect(Object.keys(read.keys['pre-key']).sort()).toEqual(['1', '2']);
    expect(read.keys['pre-key']['1']).toEqual(serialize(preKey));
    expect(read.keys['app-state-sync-key'].AAAAAQ).toEqual(serialize(appStateKey.toJSON()));
    expect(read.appStateKeyIsProto).toBe(true);
    expect(read.keys['sender-key-memory']).toEqual({ 'group@g.us': { '628@s.whatsapp.net': true } });
    expect(read.keys['lid-mapping']).toEqual({ '6281234567890': '123456789@lid' });
    expect(read.keys['device-list']).toEqual({ '6281234567890': ['0', '7'] });
  });

  it('stores nothing readable: no plaintext in any row, and another key cannot open it', async () => {
    const fence = await leasedSession();
    const { state, saveCreds } = await openState(fence);
    state.creds.me = { id: '6289999999999:1@s.whatsapp.net', name: 'Very Recognisable Name' };
    await saveCreds();
    const secret = randomBytes(48);
    await state.keys.set({ session: { s1: secret }, 'lid-mapping': { '6289999999999': '987654321@lid' } });
    const rows: { data: Buffer }[] = await dataSource.query(
      `SELECT data FROM session_auth_creds WHERE session_id = $1 UNION ALL SELECT data FROM session_auth_keys WHERE session_id = $1`,
      [fence.sessionId],
    );
    expect(rows).toHaveLength(3);
    for (const { data } of rows) {
      for (const needle of ['Very Recognisable Name', '6289999999999', '987654321@lid', secret.toString('base64'), 'noiseKey']) {
        expect(data.includes(Buffer.from(needle))).toBe(false);
      }
    }
    const otherKey = new PostgresAuthStateStore(dataSource, new CredentialCipher(randomBytes(32)), new LeaseFencing(dataSource));
    await expect(otherKey.open(fence, baileys)).rejects.toThrow(CredentialsUnreadableError);
  });

  it('keeps the last of many concurrent writes to one key, and every distinct key', async () => {
    const fence = await leasedSession();
    const { state } = await openState(fence);
    await Promise.all(
      Array.from({ length: 25 }, async (_, i) =>
        state.keys.set({ 'lid-mapping': { shared: `value-${i}`, [`own-${i}`]: `mine-${i}` }, 'device-list': { [`d${i}`]: [String(i)] } }),
      ),
    );
    const ids = Array.from({ length: 25 }, (_, i) => `own-${i}`);
    const read = await state.keys.get('lid-mapping', ['shared', ...ids]);
    expect(read.shared).toBe('value-24');
    expect(ids.map((id) => read[id])).toEqual(ids.map((_, i) => `mine-${i}`));
    expect(
      Object.keys(
        await state.keys.get(
          'device-list',
          ids.map((_, i) => `d${i}`),
        ),
      ),
    ).toHaveLength(25);
  });

  it('survives concurrent overlapping batches from separate connection pools without deadlock', async () => {
    const fence = await leasedSession();
    const other = await new DataSource(dataSourceOptions({ url: process.env.DATABASE_URL! })).initialize();
    try {
      const otherStore = new PostgresAuthStateStore(other, new CredentialCipher(key), new LeaseFencing(other));
      const [a, b] = [await openState(fence), await otherStore.open(fence, baileys)];
      const ids = Array.from({ length: 300 }, (_, i) => `k${i}`);
      const batch = (tag: string, order: string[]) => ({ 'sender-key': Object.fromEntries(order.map((id) => [id, Buffer.from(`${tag}:${id}`)])) });
      for (let round = 0; round < 4; round++) {
        // Same keys, opposite orders, at the same time: sorted writes cannot deadlock.
        await Promise.all([a.state.keys.set(batch('a', ids)), b.state.keys.set(batch('b', [...ids].reverse()))]);
      }
      const read = await a.state.keys.get('sender-key', ids);
      expect(Object.keys(read)).toHaveLength(300);
      for (const id of ids) expect(['a', 'b']).toContain(Buffer.from(read[id]).toString().split(':')[0]);
      // A batch mixing writes and deletions is applied as one transaction.
      await a.state.keys.set({ 'sender-key': { k0: null, k1: null, k2: Buffer.from('kept') } });
      const after = await b.state.keys.get('sender-key', ['k0', 'k1', 'k2']);
      expect(Object.keys(after)).toEqual(['k2']);
    } finally {
      await other.destroy();
    }
  });

  it('refuses every write once another replica holds the lease (fencing by epoch), and leaves its data alone', async () => {
    const fence = await leasedSession();
    const lost = jest.fn();
    const old = await store.open(fence, baileys, lost);
    await old.state.keys.set({ 'lid-mapping': { a: 'from-old-owner' } });
    const newFence = await takeOver(fence);
    expect(Number(newFence.epoch)).toBe(Number(fence.epoch) + 1);
    const current = await store.open(newFence, baileys);
    await current.state.keys.set({ 'lid-mapping': { a: 'from-new-owner' } });

    await expect(old.state.keys.set({ 'lid-mapping': { a: 'stale' } })).rejects.toThrow(LeaseLostError);
    old.state.creds.me = { id: 'stale@s.whatsapp.net' };
    await expect(old.saveCreds()).rejects.toThrow(LeaseLostError);
    await expect(store.wipe(fence)).rejects.toThrow(LeaseLostError);
    expect(lost).toHaveBeenCalledTimes(2);
    expect((await current.state.keys.get('lid-mapping', ['a'])).a).toBe('from-new-owner');
    const reopened = await store.open(newFence, baileys);
    expect(reopened.state.creds.me?.id).not.toBe('stale@s.whatsapp.net');
  });

  it('a claim waits for a fenced write in flight, and every write after it is refused', async () => {
    const fence = await leasedSession();
    const fencing = new LeaseFencing(dataSource);
    const order: string[] = [];
    const slowWrite = fencing.run(fence, async (manager) => {
      order.push('write started');
      await manager.query('SELECT pg_sleep(0.3)');
      order.push('write committing');
    });
    // The write holds its SHARE lock on the lease row from here on.
    await waitFor(() => order.includes('write started'));
    const claim = takeOver(fence).then((newFence) => {
      order.push('claimed');
      return newFence;
    });
    await slowWrite;
    const newFence = await claim;
    expect(order).toEqual(['write started', 'write committing', 'claimed']);
    expect(newFence.owner).toBe('replica-b');
    await expect(fencing.run(fence, async () => order.push('late write'))).rejects.toThrow(LeaseLostError);
    expect(order).not.toContain('late write');
  });

  it('wipes creds and keys on logout, and only those of that session', async () => {
    const fence = await leasedSession();
    const bystander = await leasedSession();
    for (const target of [fence, bystander]) {
      const { state } = await openState(target);
      await state.keys.set({ 'pre-key': { '1': baileys.Curve.generateKeyPair() }, session: { s: randomBytes(8) } });
    }
    await store.wipe(fence);
    const count = async (sessionId: string) =>
      (
        await dataSource.query(
          `SELECT (SELECT count(*) FROM session_auth_creds WHERE session_id = $1) + (SELECT count(*) FROM session_auth_keys WHERE session_id = $1) AS n`,
          [sessionId],
        )
      )[0].n;
    expect(Number(await count(fence.sessionId))).toBe(0);
    expect(Number(await count(bystander.sessionId))).toBe(3);
    expect(await store.hasCredentials(fence.sessionId)).toBe(false);
    // The next open starts from fresh credentials (a new QR code).
    const fresh = await store.open(fence, baileys);
    expect(fresh.state.creds.registered).toBe(false);
    expect(fresh.state.creds.me).toBeUndefined();
  });

  function openState(fence: LeaseFence): Promise<PostgresAuthState> {
    return store.open(fence, baileys);
  }
});
