import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Chat, Contact } from 'baileys' with { 'resolution-mode': 'import' };
import { AppConfig } from '../../config/app-config';
import { LeaseFence, LeaseLostError } from '../leases/lease-fence';
import type { BaileysEventBatch, SyncEventSink } from '../sync-event-sink';
import { Baileys, loadBaileys } from './baileys';
import { APPLY_ORDER, eventsInApplyOrder, mapBatch, MappingHelpers } from './event-mapping';
import { distinctRuns } from './distinct-runs';
import { isLidJid, isPnJid } from './jid';
import type { MessageRemovalOp, StoredMessageOp } from './message-ops';
import { MessageSyncWriter } from './message-sync.writer';
import { SessionQueue } from './session-queue';
import { SyncMetrics } from './sync-metrics';
import type { ChatOp, ContactOp, LinkOp, MessageOp, SyncOp } from './sync-ops';
import { SyncRecorder } from './sync-recorder';
import { readRecording } from './sync-recording';
import { ChatUpsertRow, ChatUpsertStore, LIVE_ARCHIVED, LIVE_MARKED, LIVE_MUTED, LIVE_PINNED, LIVE_SUBJECT } from './store/chat-upsert.store';
import { ContactRow, ContactsUnreadStore } from './store/contacts-unread.store';
import type { LidPn } from './store/lid-merge';
import { LidMergeStore } from './store/lid-merge.store';
import { SessionTx, SyncSessionNotFoundError } from './store/session-tx';
import { SyncStateStore } from './store/sync-state.store';
import { SyncTransactions } from './store/sync-transactions';

const HISTORY_FULL = 2; // proto.HistorySync.HistorySyncType.FULL
const RETRY_DELAYS_MS = [250, 1000];
const SLOW_BATCH_MS = 10_000;
const QUEUE_WARN_DEPTH = 50;

/** Consecutive ops of one kind, applied together (a few set-based statements, not one per row). */
type Unit = { kind: SyncOp['kind']; ops: SyncOp[] };

export interface ReplayResult {
  lines: number;
  applied: number;
  skipped: number;
}

/**
 * The SyncEventSink: turns each session's Baileys event batches into the stored copy of its chats.
 *
 * A batch is mapped to compact ops as soon as it arrives (pure functions, event-mapping.ts; a
 * history payload carries every message, the ops none), queued behind the session's earlier
 * batches and applied in one transaction, or, when larger than SYNC_CHUNK_SIZE ops, in
 * transactions of that many ops, each idempotent. `handle` resolves once the batch is stored.
 */
@Injectable()
export class ChatSyncService implements SyncEventSink, OnModuleDestroy {
  private readonly logger = new Logger('WhatsAppSync');
  private readonly queue: SessionQueue;
  private readonly recorder: SyncRecorder;
  private baileys?: Baileys;
  private helpers?: MappingHelpers;

  constructor(
    private readonly transactions: SyncTransactions,
    private readonly chats: ChatUpsertStore,
    private readonly lids: LidMergeStore,
    private readonly contacts: ContactsUnreadStore,
    private readonly state: SyncStateStore,
    private readonly metrics: SyncMetrics,
    private readonly config: AppConfig,
    private readonly messages: MessageSyncWriter,
  ) {
    this.queue = new SessionQueue(config.sync.maxConcurrentSessions);
    this.recorder = new SyncRecorder(config.sync.recordDir, () => this.baileys);
    metrics.observeQueue(() => this.queue.depths());
  }

  /** Lets queued batches finish before the database connection closes. */
  async onModuleDestroy(): Promise<void> {
    await this.queue.drain();
    await this.recorder.close();
  }

  /** Batches of the session waiting or being written (diagnostics; tests wait on it). */
  queuedBatches(sessionId: string): number {
    return this.queue.depth(sessionId);
  }

  /** The seam: one batch of a session's events, as `sock.ev.process` delivers it. Resolves once stored. */
  async handle(sessionId: string, batch: BaileysEventBatch, fence?: LeaseFence): Promise<void> {
    await this.accept(sessionId, batch, true, fence);
  }

  /**
   * Writes chats through the same path as a history sync from the phone (for the demo seeder and
   * the benchmark). `chats` are Baileys `Chat`s (proto.IConversation): id, name,
   * conversationTimestamp (s), unreadCount, markedAsUnread, pinned (s), muteEndTime, archived.
   * `contacts` name the people (name = saved name, notify = push name).
   */
  async applyHistoryBatch(sessionId: string, chats: Chat[], contacts: Contact[] = []): Promise<void> {
    await this.accept(sessionId, { 'messaging-history.set': { chats, contacts, messages: [], syncType: HISTORY_FULL, progress: null, isLatest: false } }, true);
  }

  /**
   * Feeds a JSONL recording (sync-recorder.ts) through the same path, one event per batch, in
   * file order. The whole file is checked first: a malformed line throws before anything is
   * applied. Not recorded again.
   */
  async replay(sessionId: string, file: string): Promise<ReplayResult> {
    const baileys = await this.load();
    if (!(await this.transactions.sessionExists(sessionId))) throw new SyncSessionNotFoundError(sessionId);
    let lines = 0;
    for await (const _ of readRecording(file, baileys.BufferJSON.reviver)) lines++;
    const applicable = new Set<string>(APPLY_ORDER);
    let applied = 0;
    for await (const { event, data } of readRecording(file, baileys.BufferJSON.reviver)) {
      if (!applicable.has(event)) continue;
      await this.accept(sessionId, { [event]: data }, false);
      applied++;
    }
    return { lines, applied, skipped: lines - applied };
  }

  private async accept(sessionId: string, batch: BaileysEventBatch, record: boolean, fence?: LeaseFence): Promise<void> {
    const received = Date.now();
    // Only the first batches wait here; they all wait for the same promise and so resume in call order.
    if (!this.helpers) await this.load();
    const helpers = this.helpers!;
    const events = eventsInApplyOrder(batch);
    if (events.length === 0) return;
    if (record) this.recorder.record(sessionId, events);
    const ops = mapBatch(batch, helpers, received);
    const names = events.map(({ event }) => event);
    const depth = this.queue.depth(sessionId);
    if (depth > 0 && depth % QUEUE_WARN_DEPTH === 0) this.logger.warn({ sessionId, queued: depth }, 'sync batches are queueing up for this session');
    try {
      await this.queue.run(sessionId, () => this.apply(sessionId, ops, names.length, fence));
      const lag = Date.now() - received;
      this.metrics.batchApplied(names, ops.length, lag);
      const log = { sessionId, events: names, ops: ops.length, lagMs: lag };
      if (lag > SLOW_BATCH_MS) this.logger.warn(log, 'slow sync batch');
      else this.logger.debug(log, 'sync batch applied');
    } catch (error) {
      this.metrics.batchFailed();
      if (error instanceof SyncSessionNotFoundError) {
        this.logger.warn({ sessionId, events: names }, 'sync batch dropped: the session no longer exists');
        return;
      }
      if (error instanceof LeaseLostError) {
        // Another replica holds the session now and receives WhatsApp's events itself.
        this.logger.warn({ sessionId, events: names }, 'sync batch dropped: this replica no longer holds the session');
        throw error;
      }
      this.logger.error({ sessionId, events: names, ops: ops.length, err: error }, 'sync batch failed');
      throw error;
    }
  }

  private async load(): Promise<Baileys> {
    if (!this.baileys) {
      const baileys = await loadBaileys();
      this.helpers = { isRealMessage: baileys.isRealMessage };
      this.baileys = baileys;
    }
    return this.baileys;
  }

  private async apply(sessionId: string, ops: SyncOp[], events: number, fence?: LeaseFence): Promise<void> {
    const transactions = packTransactions(planUnits(ops, this.config.sync.chunkSize), this.config.sync.chunkSize);
    const last = transactions.length - 1;
    for (let i = 0; i <= last;) {
      let end = i;
      while (end < last && onlyUpsertsMessages(transactions[end])) end++;
      if (end - i >= 2) {
        await this.applyMessageTransactions(sessionId, transactions.slice(i, end), fence);
        i = end;
        continue;
      }
      await this.applyTransaction(sessionId, transactions[i], fence, i === last ? events : undefined);
      i++;
    }
  }

  /**
   * Transactions that only upsert messages (a large history sync's chunks after its chats), two at
   * a time when the sync has a connection slot nobody waits for: PostgreSQL's side of a message is
   * twice Node's, so one connection kept one core busy and left the other half idle.
   */
  private async applyMessageTransactions(sessionId: string, transactions: Unit[][], fence?: LeaseFence): Promise<void> {
    let next = 0;
    let failure: { error: unknown } | undefined;
    const work = async (borrowed: boolean) => {
      while (next < transactions.length && !failure) {
        const release = borrowed ? this.queue.borrowIdleSlot() : undefined;
        if (borrowed && !release) return;
        const units = transactions[next++];
        try {
          await this.applyTransaction(sessionId, units, fence, undefined, 'shared');
        } catch (error) {
          failure ??= { error };
        } finally {
          release?.();
        }
      }
    };
    await Promise.all([work(false), work(true)]);
    if (failure) throw failure.error;
  }

  /** One transaction of a batch; `events` with the last one, which records the batch as applied. */
  private applyTransaction(sessionId: string, units: Unit[], fence: LeaseFence | undefined, events?: number, lock?: 'shared'): Promise<void> {
    return this.withRetry(() =>
      this.transactions.inSession(
        sessionId,
        async (tx) => {
          for (const unit of units) await this.applyUnit(tx, unit);
          if (events !== undefined) await this.state.recordApplied(tx, events);
        },
        fence,
        lock,
      ),
    );
  }

  private async withRetry(work: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (error instanceof SyncSessionNotFoundError || error instanceof LeaseLostError || attempt >= RETRY_DELAYS_MS.length) throw error;
        this.logger.warn({ err: error, attempt: attempt + 1 }, 'sync transaction failed, retrying');
        await sleep(RETRY_DELAYS_MS[attempt]);
      }
    }
  }

  private async applyUnit(tx: SessionTx, unit: Unit): Promise<void> {
    switch (unit.kind) {
      case 'link':
        return this.applyLinks(tx, unit.ops as LinkOp[]);
      case 'contact':
        return this.applyContacts(tx, unit.ops as ContactOp[]);
      case 'chat':
        return this.applyChats(tx, unit.ops as ChatOp[]);
      case 'message':
        return this.applyMessages(tx, unit.ops as MessageOp[]);
      case 'stored-message':
        return this.messages.apply(
          tx,
          unit.ops as StoredMessageOp[],
          await this.canonicalizer(
            tx,
            unit.ops.map((op) => (op as StoredMessageOp).jid),
          ),
        );
      case 'message-removal':
        return this.messages.remove(
          tx,
          unit.ops as MessageRemovalOp[],
          await this.canonicalizer(
            tx,
            unit.ops.map((op) => (op as MessageRemovalOp).jid),
          ),
        );
      case 'delete': {
        const canonical = await this.canonicalizer(
          tx,
          unit.ops.map((op) => (op as { jid: string }).jid),
        );
        const jids = unit.ops.flatMap((op) => {
          const { jid, alt } = canonical((op as { jid: string }).jid);
          return alt ? [jid, alt] : [jid];
        });
        await this.state.deleteChats(tx, [...new Set(jids)]);
        return;
      }
      case 'history':
        for (const op of unit.ops) if (op.kind === 'history') await this.state.recordHistoryProgress(tx, op);
        return;
      case 'history-status':
        for (const op of unit.ops) if (op.kind === 'history-status') await this.state.recordHistoryStatus(tx, op.syncType, op.status);
        return;
    }
  }

  private async applyLinks(tx: SessionTx, ops: LinkOp[]): Promise<void> {
    // Last word per LID and per phone number within the unit.
    const byLid = new Map<string, LidPn>();
    for (const { lid, pn } of ops) byLid.set(lid, { lid, pn });
    const byPn = new Map<string, LidPn>();
    for (const pair of byLid.values()) byPn.set(pair.pn, pair);
    const pairs = [...byPn.values()];
    const known = await this.lids.findMappings(
      tx,
      pairs.flatMap(({ lid, pn }) => [lid, pn]),
    );
    const knownPairs = new Set(known.map(({ lid, pn }) => `${lid} ${pn}`));
    const fresh = pairs.filter(({ lid, pn }) => !knownPairs.has(`${lid} ${pn}`));
    if (fresh.length === 0) return;
    const changed = await this.lids.linkLidToPhone(tx, fresh);
    await this.contacts.refreshNames(tx, changed);
    await this.contacts.refreshUnreadCounts(tx, changed);
  }

  private async applyContacts(tx: SessionTx, ops: ContactOp[]): Promise<void> {
    const rows = new Map<string, ContactRow>();
    for (const op of ops) {
      const row = rows.get(op.jid) ?? { jid: op.jid, saved_name: null, push_name: null, verified_name: null };
      row.saved_name = op.savedName ?? row.saved_name;
      row.push_name = op.pushName ?? row.push_name;
      row.verified_name = op.verifiedName ?? row.verified_name;
      rows.set(op.jid, row);
    }
    await this.contacts.refreshNames(tx, await this.contacts.upsertContacts(tx, [...rows.values()]));
  }

  private async applyChats(tx: SessionTx, ops: ChatOp[]): Promise<void> {
    const canonical = await this.canonicalizer(
      tx,
      ops.map((op) => op.jid),
    );
    const rows = ops.map((op) => chatRow(op, canonical(op.jid)));
    // One statement per run of distinct chats (distinctRuns).
    for (const run of distinctRuns(rows, (row) => row.jid)) {
      if (run.some((row) => row.read)) await this.contacts.pruneReadMessages(tx, await this.chats.upsertChatsReturningIds(tx, run));
      else await this.chats.upsertChats(tx, run);
    }
  }

  private async applyMessages(tx: SessionTx, ops: MessageOp[]): Promise<void> {
    const canonical = await this.canonicalizer(
      tx,
      ops.map((op) => op.jid),
    );
    const chats = new Map<string, ChatUpsertRow>();
    const unread: { jid: string; id: string; ts: number }[] = [];
    for (const op of ops) {
      const { jid, alt } = canonical(op.jid);
      const row = chats.get(jid) ?? chatRow({ kind: 'chat', jid: op.jid, type: op.type, create: true }, { jid, alt });
      if (op.at !== null) row.activity = Math.max(row.activity ?? 0, op.at);
      chats.set(jid, row);
      if (op.unread && op.at !== null) unread.push({ jid, id: op.id, ts: op.at });
    }
    await this.chats.upsertChats(tx, [...chats.values()]);
    await this.contacts.refreshUnreadCounts(tx, await this.contacts.recordUnreadMessages(tx, unread));
  }

  /** Resolves JIDs to the chat that stands for the person: the phone JID once its LID pair is known. */
  private async canonicalizer(tx: SessionTx, jids: string[]): Promise<(jid: string) => { jid: string; alt: string | null }> {
    const candidates = [...new Set(jids.filter((jid) => isLidJid(jid) || isPnJid(jid)))];
    const mappings = await this.lids.findMappings(tx, candidates);
    const pnOfLid = new Map(mappings.map(({ lid, pn }) => [lid, pn]));
    const lidOfPn = new Map(mappings.map(({ lid, pn }) => [pn, lid]));
    return (jid) => {
      const pn = pnOfLid.get(jid);
      if (pn) return { jid: pn, alt: jid };
      return { jid, alt: lidOfPn.get(jid) ?? null };
    };
  }
}

function chatRow(op: ChatOp, canonical: { jid: string; alt: string | null }): ChatUpsertRow {
  const snapshot = op.snapshot;
  return {
    jid: canonical.jid,
    alt_jid: canonical.alt,
    type: op.type,
    may_create: op.create,
    subject: op.subject ?? null,
    activity: op.activityAt ?? null,
    snap_at: snapshot?.at ?? null,
    snap_unread: snapshot?.unread ?? null,
    snap_marked: snapshot?.markedUnread ?? null,
    snap_pinned: snapshot?.pinnedAt ?? null,
    snap_muted: snapshot?.mutedUntil ?? null,
    snap_archived: snapshot?.archived ?? null,
    pinned: op.pinnedAt ?? null,
    muted: op.mutedUntil ?? null,
    archived: op.archived ?? null,
    live_bits: snapshot
      ? 0
      : (op.pinnedAt !== undefined ? LIVE_PINNED : 0) |
        (op.mutedUntil !== undefined ? LIVE_MUTED : 0) |
        (op.archived !== undefined ? LIVE_ARCHIVED : 0) |
        (op.read || op.markedUnread ? LIVE_MARKED : 0) |
        (op.subject !== undefined ? LIVE_SUBJECT : 0),
    read: op.read === true,
    marked: op.markedUnread === true,
  };
}

/** A transaction whose every unit upserts messages: one that may take the session's sync lock shared (SyncTransactions). */
function onlyUpsertsMessages(units: Unit[]): boolean {
  return units.every((unit) => unit.kind === 'stored-message');
}

/** Consecutive ops of one kind form a unit, cut at `chunkSize` ops. */
export function planUnits(ops: SyncOp[], chunkSize: number): Unit[] {
  const units: Unit[] = [];
  for (const op of ops) {
    const last = units[units.length - 1];
    if (last && last.kind === op.kind && last.ops.length < chunkSize) last.ops.push(op);
    else units.push({ kind: op.kind, ops: [op] });
  }
  return units;
}

/** Units are packed into transactions of up to `chunkSize` ops; there is always at least one. */
export function packTransactions(units: Unit[], chunkSize: number): Unit[][] {
  const transactions: Unit[][] = [[]];
  let size = 0;
  for (const unit of units) {
    if (size > 0 && size + unit.ops.length > chunkSize) {
      transactions.push([]);
      size = 0;
    }
    transactions[transactions.length - 1].push(unit);
    size += unit.ops.length;
  }
  return transactions;
}
