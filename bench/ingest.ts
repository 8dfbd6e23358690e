import { resolve } from 'node:path';
import { Client } from 'pg';
import { MUTED_FOREVER } from '../src/chats/chat-type';
import { newSessionId } from '../src/sessions/session-id';

/**
 * Item 5 of the benchmark: a Baileys history-sync batch of `chats` conversations applied through
 * the real sync code path (the built ChatSyncService.applyHistoryBatch: mapping, per-session queue,
 * chunked set-based upserts), in chats/s, against a naive one-statement-per-chat upsert of the same
 * conversations in the same run.
 */
export interface IngestMeasurement {
  chats: number;
  seconds: number;
  gatewayChatsPerSecond: number;
  naiveChats: number;
  naiveSeconds: number;
  naiveChatsPerSecond: number;
}

export type IngestResult = { measured: IngestMeasurement } | { skipped: string } | { failed: string; afterSeconds: number };

export interface IngestContext {
  databaseUrl: string;
  orgId: string;
  chats: number;
  naiveChats: number;
  log: (line: string) => void;
}

/** Reference time of the generated history, in seconds (as WhatsApp's history sync carries it). */
const NOW_S = Date.UTC(2025, 5, 1) / 1000;
const TWO_YEARS_S = 730 * 86_400;

/** A small deterministic generator, so that every run ingests the same history. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Conversation = Record<string, unknown> & { id: string };
type HistoryContact = { id: string; name?: string; notify?: string };

/**
 * A history payload as Baileys hands it over (`messaging-history.set`): conversations with the same
 * mix as the listing dataset (80% DMs, a tenth of them LIDs; 15% groups; 3% broadcast lists; 2%
 * channels), 3 pinned, 10% archived, 10% muted (a fifth of them forever), 5% without activity,
 * 30% unread, 1% marked unread; and contacts naming 85% of the DMs.
 */
export function historyPayload(count: number): { conversations: Conversation[]; contacts: HistoryContact[] } {
  const random = mulberry32(42);
  const conversations: Conversation[] = [];
  const contacts: HistoryContact[] = [];
  for (let i = 1; i <= count; i++) {
    const kind = random();
    let conversation: Conversation;
    if (kind < 0.8) {
      const id = random() < 0.1 ? `${180000000000000 + i}@lid` : `62${8100000000 + i}@s.whatsapp.net`;
      conversation = { id };
      const naming = random();
      if (naming < 0.6) contacts.push({ id, name: `Contact ${i}` });
      else if (naming < 0.85) contacts.push({ id, notify: `Push ${i}` });
    } else if (kind < 0.95) {
      conversation = { id: `120363${100000000000 + i}@g.us`, name: `Group ${i}` };
    } else if (kind < 0.98) {
      conversation = { id: `${1600000000 + i}@broadcast`, name: random() < 0.5 ? `Broadcast list ${i}` : undefined };
    } else {
      conversation = { id: `120363${900000000000 + i}@newsletter`, name: `Channel ${i}` };
    }
    const active = random();
    if (active >= 0.05) conversation.conversationTimestamp = NOW_S - Math.floor(((active - 0.05) / 0.95) * TWO_YEARS_S);
    if (i <= 3) conversation.pinned = NOW_S - i * 86_400;
    if (random() < 0.1) conversation.archived = true;
    const mute = random();
    if (mute < 0.02) conversation.muteEndTime = -1;
    else if (mute < 0.1) conversation.muteEndTime = NOW_S + Math.floor(mute * 300 * 86_400);
    const unread = random();
    if (unread >= 0.7) conversation.unreadCount = 1 + Math.floor(((unread - 0.7) / 0.3) * 50);
    else if (unread >= 0.69) conversation.markedAsUnread = true;
    conversations.push(conversation);
  }
  return { conversations, contacts };
}

function chatType(jid: string): string {
  if (jid.endsWith('@g.us')) return 'group';
  if (jid.endsWith('@broadcast')) return 'broadcast';
  if (jid.endsWith('@newsletter')) return 'newsletter';
  return 'dm';
}

/** The peers' way: one upsert statement per chat, each its own transaction, values computed in JS. */
async function naiveUpsert(databaseUrl: string, sessionId: string, conversations: Conversation[], contacts: HistoryContact[]): Promise<void> {
  const names = new Map(contacts.map((contact) => [contact.id, contact.name ?? contact.notify ?? null]));
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const chat of conversations) {
      const seconds = (value: unknown) => (typeof value === 'number' && value > 0 ? value * 1000 : null);
      const unread = typeof chat.unreadCount === 'number' ? chat.unreadCount : 0;
      const mute = chat.muteEndTime as number | undefined;
      await client.query(
        `INSERT INTO chats (session_id, jid, type, name, pinned_at, archived, muted_until, last_message_at, unread_count, unread_base, marked_unread)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)
         ON CONFLICT (session_id, jid) DO UPDATE SET
           name = EXCLUDED.name, pinned_at = EXCLUDED.pinned_at, archived = EXCLUDED.archived, muted_until = EXCLUDED.muted_until,
           last_message_at = EXCLUDED.last_message_at, unread_count = EXCLUDED.unread_count, unread_base = EXCLUDED.unread_base,
           marked_unread = EXCLUDED.marked_unread, updated_at = now()`,
        [
          sessionId,
          chat.id,
          chatType(chat.id),
          (chat.name as string | undefined) ?? names.get(chat.id) ?? null,
          seconds(chat.pinned),
          chat.archived === true,
          mute === undefined ? null : mute < 0 ? MUTED_FOREVER : mute * 1000,
          seconds(chat.conversationTimestamp),
          unread,
          chat.markedAsUnread === true,
        ],
      );
    }
  } finally {
    await client.end();
  }
}

async function countChats(client: Client, sessionId: string): Promise<number> {
  return Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM chats WHERE session_id = $1', [sessionId])).rows[0].n);
}

interface SyncService {
  applyHistoryBatch(sessionId: string, chats: unknown[], contacts?: unknown[]): Promise<void>;
}

/**
 * Starts a measured write phase on a settled server: a checkpoint now writes out what seeding, the
 * load cases and the previous phase dirtied, so that PostgreSQL's next checkpoint (and the full-page
 * images that follow one) does not land inside the window and count against whichever phase it hits.
 * CHECKPOINT needs a superuser or pg_checkpoint; without either the phase starts unsettled.
 */
async function settle(client: Client, log: (message: string) => void): Promise<void> {
  try {
    await client.query('CHECKPOINT');
  } catch (error) {
    log(`ingest: could not run CHECKPOINT before measuring (${(error as Error).message}); figures may include a checkpoint`);
  }
}

export async function runIngestBenchmark(context: IngestContext): Promise<IngestResult> {
  const { databaseUrl, orgId, log } = context;
  const [warmup, synced, naive] = [newSessionId(), newSessionId(), newSessionId()];
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  // The built code, as production runs it: the CLI's application context holds the sync (no sockets).
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NestFactory } = require('@nestjs/core') as typeof import('@nestjs/core');
  const { CliModule } = require(resolve('dist/cli/cli.module.js')) as typeof import('../src/cli/cli.module');
  const { AppConfig } = require(resolve('dist/config/app-config.js')) as typeof import('../src/config/app-config');
  const { ChatSyncService } = require(resolve('dist/whatsapp-sync/sync/chat-sync.service.js')) as typeof import('../src/whatsapp-sync/sync/chat-sync.service');
  const config = AppConfig.fromEnvironment({ ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', SESSION_CAPACITY: '0' });
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(config), { logger: ['error', 'warn'] });
  try {
    await client.query(
      `INSERT INTO sessions (id, org_id, name, status) SELECT id, $2, 'bench ingest ' || ord, 'connected' FROM unnest($1::text[]) WITH ORDINALITY AS s(id, ord)`,
      [[warmup, synced, naive], orgId],
    );
    const sync = app.get<unknown, SyncService>(ChatSyncService);
    const { conversations, contacts } = historyPayload(context.chats);
    // Loads Baileys and warms the code path up on a session of its own.
    const small = historyPayload(2000);
    await sync.applyHistoryBatch(warmup, small.conversations, small.contacts);

    await settle(client, log);
    log(`ingest: applying a history batch of ${context.chats.toLocaleString('en-US')} chats through the sync`);
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      await sync.applyHistoryBatch(synced, conversations, contacts);
    } catch (error) {
      return { failed: `the sync rejected the batch: ${(error as Error).message}`, afterSeconds: elapsed() };
    }
    const seconds = elapsed();
    const stored = await countChats(client, synced);
    if (stored !== context.chats) throw new Error(`the sync stored ${stored} chats of ${context.chats}`);

    const naiveChats = Math.min(context.naiveChats, context.chats);
    await settle(client, log);
    log(`ingest: the naive baseline upserts ${naiveChats.toLocaleString('en-US')} chats one at a time`);
    const naiveStarted = process.hrtime.bigint();
    await naiveUpsert(databaseUrl, naive, conversations.slice(0, naiveChats), contacts);
    const naiveSeconds = Number(process.hrtime.bigint() - naiveStarted) / 1e9;
    if ((await countChats(client, naive)) !== naiveChats) throw new Error('the naive baseline did not store every chat');
    return {
      measured: {
        chats: context.chats,
        seconds,
        gatewayChatsPerSecond: context.chats / seconds,
        naiveChats,
        naiveSeconds,
        naiveChatsPerSecond: naiveChats / naiveSeconds,
      },
    };
  } finally {
    await app.close();
    await client.end();
  }
}
