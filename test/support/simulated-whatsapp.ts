import { isDeepStrictEqual } from 'node:util';
import type { Capability } from '../../src/common/capabilities';
import { ChatSeed, ContactSeed, PhoneBook, samplePhoneBook } from '../../src/simulator/phone-book';
import { WhatsAppSimulator } from '../../src/simulator/whatsapp-simulator';
import { IsolatedDatabase, isolatedDatabase } from './isolated-database';
import { SpawnedGateway } from './spawned-gateway';
import { TestApp } from './test-app';
import { waitFor } from './wait-for';

/**
 * The bound of a wait on the gateway or the simulator: linking, a history sync or a decryption take
 * a second or two alone and many times that on a loaded machine. A bound for a stuck test, never
 * a timing assertion.
 */
export const SIMULATOR_WAIT_MS = 90_000;

/** The gateway settings that point Baileys at the simulator and trust its certificate root and its media host's certificate. */
export function simulatorEnv(simulator: WhatsAppSimulator): Record<string, string> {
  return {
    WHATSAPP_WS_URL: simulator.url,
    WHATSAPP_SIMULATOR_ROOT_KEY: simulator.rootPublicKeyHex,
    WHATSAPP_SIMULATOR_MEDIA_CA: simulator.mediaCertificatePem,
  };
}

/**
 * Quick reconnects and claims. The lease TTL stays generous: a first login generates and stores
 * 812 pre-keys, which blocks an in-process gateway's event loop for seconds on a loaded machine.
 */
export const FAST_SESSIONS_ENV = {
  SESSION_CAPACITY: '10',
  SESSION_LEASE_TTL_MS: '30000',
  SESSION_LEASE_RENEW_INTERVAL_MS: '2000',
  SESSION_TAKEOVER_JITTER_MS: '100',
  SESSION_COMMAND_POLL_MS: '50',
  RECONNECT_BASE_DELAY_MS: '100',
  RECONNECT_MAX_DELAY_MS: '1000',
};

export interface GatewayClient {
  baseUrl: string;
  token: string;
}

const ALL: Capability[] = ['read', 'send', 'manage', 'admin'];

/**
 * A WhatsApp simulator and an in-process gateway pointed at it, on a database of their own, with
 * a tenant holding every capability (`gateway`); `SIM_LOGS=1` prints the simulator's log. Each
 * `newPhone` is a phone number of its own with a session of its own.
 */
export class SimulatedGateway {
  private nextPhone: number;
  /** Gateway processes started with spawnReplica, in start order. */
  readonly replicas: SpawnedGateway[] = [];

  private constructor(
    readonly database: IsolatedDatabase,
    readonly simulator: WhatsAppSimulator,
    readonly app: TestApp,
    readonly gateway: GatewayClient,
    firstPhone: number,
  ) {
    this.nextPhone = firstPhone;
  }

  /**
   * `env` adds to (or overrides) FAST_SESSIONS_ENV (`SESSION_CAPACITY: '0'`: the in-process app
   * serves the API and holds no session, replicas do); phone numbers count up from `firstPhone`.
   */
  static async start(env: Record<string, string> = {}, firstPhone = 15550000100): Promise<SimulatedGateway> {
    const database = await isolatedDatabase();
    const simulator = await WhatsAppSimulator.start({ log: (line) => process.env.SIM_LOGS && process.stderr.write(`SIM ${line}\n`) });
    const app = await TestApp.start({ ...FAST_SESSIONS_ENV, ...simulatorEnv(simulator), DATABASE_URL: database.url, ...env });
    const tenant = await app.createTenant(ALL);
    return new SimulatedGateway(database, simulator, app, { baseUrl: app.baseUrl, token: tenant.apiKey }, firstPhone);
  }

  async stop(): Promise<void> {
    await Promise.all(this.replicas.map((replica) => replica.stop()));
    await this.app.close();
    await this.simulator.stop();
    await this.database.drop();
  }

  /**
   * A gateway replica in a process of its own (dist/main.js) on the same database, pointed at the
   * simulator: FAST_SESSIONS_ENV with up to 5 sessions, and `env` on top. Stopped by stop().
   */
  async spawnReplica(replicaId: string, env: Record<string, string> = {}): Promise<SpawnedGateway> {
    const replica = await SpawnedGateway.start(
      { ...FAST_SESSIONS_ENV, SESSION_CAPACITY: '5', ...simulatorEnv(this.simulator), DATABASE_URL: this.database.url, REPLICA_ID: replicaId, ...env },
      60_000,
    );
    this.replicas.push(replica);
    return replica;
  }

  /** A simulated phone holding `phoneBook`, and a new session for it (not linked yet). */
  async newPhone(phoneBook: PhoneBook = samplePhoneBook(Math.floor(Date.now() / 1000))): Promise<{ phone: string; phoneBook: PhoneBook; sessionId: string }> {
    const phone = String(this.nextPhone++);
    await this.simulator.createAccount({ phone, pushName: `Phone ${phone}`, phoneBook });
    const created = await api(this.gateway, '/sessions', { method: 'POST', body: { name: `line ${phone}` } });
    if (created.status !== 201) throw new Error(`Create session answered ${created.status}: ${JSON.stringify(created.body)}`);
    return { phone, phoneBook, sessionId: created.body.id as string };
  }

  /** A new phone linked by QR to its session, which is connected; `device` is the linked device's JID. */
  async linkedPhone(phoneBook?: PhoneBook): Promise<{ phone: string; phoneBook: PhoneBook; sessionId: string; device: string }> {
    const linked = await this.newPhone(phoneBook);
    const device = await linkByQr(this.gateway, linked.sessionId, this.simulator, linked.phone);
    await waitForStatus(this.gateway, linked.sessionId, 'connected');
    return { ...linked, device };
  }
}

export async function api<T = any>(gateway: GatewayClient, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(`${gateway.baseUrl}/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${gateway.token}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export async function sessionStatus(gateway: GatewayClient, sessionId: string): Promise<string> {
  return (await api(gateway, `/sessions/${sessionId}`)).body.status;
}

export function waitForStatus(gateway: GatewayClient, sessionId: string, status: string, timeoutMs = SIMULATOR_WAIT_MS): Promise<true> {
  return waitFor(async () => (await sessionStatus(gateway, sessionId)) === status, timeoutMs);
}

/** Waits for the session's QR, then has the simulated phone scan it; returns the linked device's JID. */
export async function linkByQr(gateway: GatewayClient, sessionId: string, simulator: WhatsAppSimulator, phone: string): Promise<string> {
  await waitForStatus(gateway, sessionId, 'qr_required');
  const qr = await waitFor(async () => {
    const response = await api(gateway, `/sessions/${sessionId}/qr`);
    return response.status === 200 ? (response.body.qr as string) : undefined;
  });
  return simulator.scan(qr, phone).catch(async (error: Error) => {
    throw new Error(`${error.message}; session: ${JSON.stringify((await api(gateway, `/sessions/${sessionId}`)).body)}`);
  });
}

/** Every chat of the session, through List chats, page by page. */
export async function listAllChats(gateway: GatewayClient, sessionId: string): Promise<any[]> {
  const chats: any[] = [];
  let cursor: string | null = null;
  do {
    const page: { status: number; body: { data: any[]; nextCursor: string | null } } = await api(
      gateway,
      `/sessions/${sessionId}/chats?limit=200${cursor ? `&cursor=${cursor}` : ''}`,
    );
    if (page.status !== 200) throw new Error(`List chats answered ${page.status}: ${JSON.stringify(page.body)}`);
    chats.push(...page.body.data);
    cursor = page.body.nextCursor;
  } while (cursor);
  return chats;
}

const MUTED_FOREVER = 253_402_300_799_000;

/**
 * What List chats must show for a phone book, derived from WhatsApp's rules and the gateway's
 * (README, docs/sync.md): an @lid chat with a known phone is listed under the phone JID; a
 * person's name is the name the phone shows, else the push name; a mute of -1 is forever; a chat
 * marked unread counts at least 1; pinned chats first (latest pin first), then by last activity
 * (chats without messages last).
 */
export function expectedChats(phoneBook: PhoneBook): Record<string, unknown>[] {
  const pushNames = new Map(phoneBook.contacts.map((contact: ContactSeed) => [contact.jid, contact.notify]));
  const typeOf = (jid: string) =>
    jid.endsWith('@g.us') ? 'group' : jid.endsWith('@broadcast') ? 'broadcast' : jid.endsWith('@newsletter') ? 'newsletter' : 'dm';
  const rows = phoneBook.chats.map((chat: ChatSeed) => {
    const jid = chat.pnJid ?? chat.jid;
    const muted = chat.muteEndTime === undefined ? null : chat.muteEndTime < 0 ? MUTED_FOREVER : chat.muteEndTime * 1000;
    const unread = chat.unreadCount ?? 0;
    return {
      jid,
      type: typeOf(jid),
      name: chat.name ?? pushNames.get(jid) ?? null,
      pinned: chat.pinnedAt !== undefined,
      archived: chat.archived ?? false,
      mutedUntil: muted,
      lastMessageAt: chat.lastMessageAt ? chat.lastMessageAt * 1000 : null,
      unreadCount: chat.markedUnread ? Math.max(1, unread) : unread,
      pinnedAt: chat.pinnedAt ?? -1,
    };
  });
  rows.sort((a, b) => b.pinnedAt - a.pinnedAt || (b.lastMessageAt ?? -1) - (a.lastMessageAt ?? -1));
  return rows.map(({ pinnedAt: _pinnedAt, ...row }) => row);
}

/** The fields of a List chats row that expectedChats predicts. */
export function comparable(chat: any): Record<string, unknown> {
  const { jid, type, name, pinned, archived, mutedUntil, lastMessageAt, unreadCount } = chat;
  return { jid, type, name, pinned, archived, mutedUntil, lastMessageAt, unreadCount };
}

/**
 * Waits until List chats shows exactly `expected` (the comparable fields, in order) and returns
 * what it shows; after `timeoutMs`, returns the last listing so the caller's assertion shows the difference.
 */
export async function settledChats(
  gateway: GatewayClient,
  sessionId: string,
  expected: Record<string, unknown>[],
  timeoutMs = SIMULATOR_WAIT_MS,
): Promise<Record<string, unknown>[]> {
  let last: Record<string, unknown>[] = [];
  try {
    return await waitFor(async () => {
      last = (await listAllChats(gateway, sessionId)).map(comparable);
      return isDeepStrictEqual(last, expected) ? last : undefined;
    }, timeoutMs);
  } catch {
    return last;
  }
}
