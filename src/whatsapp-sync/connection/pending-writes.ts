import type { BaileysEventBatch } from '../sync-event-sink';

type Upserted = NonNullable<BaileysEventBatch['messages.upsert']>['messages'][number];

export type PendingWriteKind = 'reaction' | 'edit' | 'delete';

/** Refused writes whose echo is still filtered: an echo comes within moments, so a few suffice. */
const REFUSED_KEPT = 64;

/**
 * The writes (reaction, edit, delete for everyone) this connection sent whose server ack has not
 * come yet. Baileys emits a sent message as its own event (emitOwnEvents) on the next tick after it
 * went out, whatever WhatsApp then answers; for a write that is the change itself (a
 * `messages.reaction`, a `messages.update` with the edit or the revoke, and the carrier message).
 * The stored copy takes a write only on WhatsApp's ack (the engine feeds it then), so that early
 * echo is dropped: `withoutEchoes` removes exactly the events a pending write's carrier gives.
 * Writes made on the phone or another device carry other ids and pass untouched.
 */
export class PendingWrites {
  /** By the carrier's WhatsApp id: what it changes, and on which message (its WhatsApp id). */
  private readonly byId = new Map<string, { kind: PendingWriteKind; target: string }>();
  /** Writes WhatsApp refused, still filtered (oldest first); see `refused`. */
  private readonly refusedIds = new Set<string>();

  add(waId: string, kind: PendingWriteKind, target: string): void {
    this.byId.set(waId, { kind, target });
  }

  /** The ack came and the stored copy took the write: a later echo is the same change and may pass. */
  delete(waId: string): void {
    this.byId.delete(waId);
    this.refusedIds.delete(waId);
  }

  /**
   * WhatsApp refused the write: its echo must never be stored, and it can come after the refusal
   * (on a loaded machine Baileys' event buffer flushed the echo of a refused edit after the error
   * ack, and the edit was stored). So it stays filtered; the newest REFUSED_KEPT are kept.
   */
  refused(waId: string): void {
    if (!this.byId.has(waId)) return;
    this.refusedIds.add(waId);
    if (this.refusedIds.size > REFUSED_KEPT) this.delete(this.refusedIds.values().next().value!);
  }

  get size(): number {
    return this.byId.size;
  }

  /** The batch without the echoes of pending writes; the batch itself when it holds none. */
  withoutEchoes(batch: BaileysEventBatch): BaileysEventBatch {
    if (this.byId.size === 0) return batch;
    const upsert = batch['messages.upsert'];
    const reactions = batch['messages.reaction'];
    const updates = batch['messages.update'];
    if (!upsert && !reactions && !updates) return batch;

    const result: BaileysEventBatch = { ...batch };
    if (upsert) {
      const messages = upsert.messages
        .filter((message) => !this.isCarrier(message.key) && !this.isFoldedChange(message))
        .map((message) => this.withoutFoldedReactions(message));
      if (messages.length === 0) delete result['messages.upsert'];
      else if (messages.some((message, index) => message !== upsert.messages[index])) result['messages.upsert'] = { ...upsert, messages };
    }
    if (reactions) {
      const kept = reactions.filter((entry) => !this.isCarrier(entry.reaction?.key));
      if (kept.length === 0) delete result['messages.reaction'];
      else if (kept.length !== reactions.length) result['messages.reaction'] = kept;
    }
    if (updates) {
      const kept = updates.filter((entry) => !this.isEchoedChange(entry));
      if (kept.length === 0) delete result['messages.update'];
      else if (kept.length !== updates.length) result['messages.update'] = kept;
    }
    return result;
  }

  /**
   * Baileys' event buffer folds a change into a message upserted in the same flush (its own echo of
   * a message sent just before): an edit replaces the message's content with `editedMessage`, a
   * revoke its key with the carrier's (caught as a carrier). The message is stored already (it was
   * sent from the outbox), so that copy is dropped and the change waits for its ack.
   */
  private isFoldedChange(message: Upserted): boolean {
    if (message.key.fromMe !== true || !message.message?.editedMessage) return false;
    return this.hasPending('edit', message.key.id);
  }

  /** A reaction folded into the message it reacts to (in its `reactions`). */
  private withoutFoldedReactions(message: Upserted): Upserted {
    const reactions = message.reactions;
    if (!reactions?.some((reaction) => this.isCarrier(reaction.key))) return message;
    return { ...message, reactions: reactions.filter((reaction) => !this.isCarrier(reaction.key)) };
  }

  private hasPending(kind: PendingWriteKind, target: string | null | undefined): boolean {
    if (typeof target !== 'string') return false;
    for (const write of this.byId.values()) {
      if (write.kind === kind && write.target === target) return true;
    }
    return false;
  }

  private isCarrier(key: { id?: string | null; fromMe?: boolean | null } | null | undefined): boolean {
    return key?.fromMe === true && typeof key.id === 'string' && this.byId.has(key.id);
  }

  /**
   * Baileys' update for an own edit names the edited message (its key) and carries the new content;
   * for an own revoke it also names the carrier (`update.key`).
   */
  private isEchoedChange(entry: NonNullable<BaileysEventBatch['messages.update']>[number]): boolean {
    const { key, update } = entry;
    if (key.fromMe !== true || typeof key.id !== 'string') return false;
    const carrier = (update as { key?: { id?: string | null; fromMe?: boolean | null } }).key;
    if (this.isCarrier(carrier)) return true;
    return !!update.message?.editedMessage && this.hasPending('edit', key.id);
  }
}
