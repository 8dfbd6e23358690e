import { Injectable } from '@nestjs/common';
import { CredentialCipher } from '../auth-state/credential-cipher';
import { distinctRuns } from './distinct-runs';
import type { MessageRemovalOp, StoredMessageOp } from './message-ops';
import { MessageStore, MessageUpsertRow } from './store/message.store';
import type { SessionTx } from './store/session-tx';

/**
 * Rows per upsert statement. A history chunk's statement is cut in slices so that Node builds and
 * serializes one slice while PostgreSQL writes the one before (a statement more per slice costs
 * PostgreSQL a plan, well under a millisecond).
 */
const UPSERT_SLICE = 1000;

/** Resolves a JID to the chat that stands for the person (ChatSyncService's canonicalizer). */
export type Canonical = (jid: string) => { jid: string; alt: string | null };

/** What the media key of a stored message is bound to: a copied row does not decrypt elsewhere. */
export const mediaKeyContext = (sessionId: string, waId: string, fromMe: boolean): string => `message-media:${sessionId}:${fromMe ? 1 : 0}:${waId}`;

/**
 * Writes the messages store from the sync's ops, inside the session's sync transaction: rows go
 * in set-based, one statement per slice (UPSERT_SLICE rows) of a run of distinct messages (distinctRuns).
 */
@Injectable()
export class MessageSyncWriter {
  constructor(
    private readonly repository: MessageStore,
    private readonly cipher: CredentialCipher,
  ) {}

  async apply(tx: SessionTx, ops: StoredMessageOp[], canonical: Canonical): Promise<void> {
    // Consecutive ops of one origin together: a history sync's messages are stored without message.received.
    for (let start = 0; start < ops.length;) {
      const history = ops[start].history === true;
      let end = start + 1;
      while (end < ops.length && (ops[end].history === true) === history) end++;
      const group = ops.slice(start, end);
      const jids = group.map((op) => canonical(op.jid).jid);
      const runs = distinctRuns(
        group.map((_, index) => index),
        (index) => `${jids[index]} ${group[index].fromMe ? 1 : 0} ${group[index].waId}`,
      );
      await this.repository.upsertMessages(tx, this.slicesOf(tx.sessionId, group, jids, runs), history ? 'history' : 'live');
      start = end;
    }
  }

  /** The rows of each run, UPSERT_SLICE at a time, each built only when the store takes it (while the previous slice is written). */
  private *slicesOf(sessionId: string, ops: StoredMessageOp[], jids: string[], runs: number[][]): Generator<MessageUpsertRow[]> {
    for (const run of runs) {
      for (let at = 0; at < run.length; at += UPSERT_SLICE) {
        yield run.slice(at, at + UPSERT_SLICE).map((index) => this.rowOf(sessionId, ops[index], jids[index]));
      }
    }
  }

  async remove(tx: SessionTx, ops: MessageRemovalOp[], canonical: Canonical): Promise<void> {
    const cleared = ops.filter((op) => op.keys === undefined).map((op) => canonical(op.jid).jid);
    const keys = ops.flatMap((op) => (op.keys ?? []).map(({ waId, fromMe }) => ({ jid: canonical(op.jid).jid, wa_id: waId, from_me: fromMe })));
    await this.repository.removeMessages(tx, keys);
    await this.repository.clearChats(tx, [...new Set(cleared)]);
  }

  /** Absent fields stay undefined: JSON.stringify leaves them out and json_to_recordset reads NULL (a smaller document to parse). */
  private rowOf(sessionId: string, op: StoredMessageOp, jid: string): MessageUpsertRow {
    return {
      jid,
      wa_id: op.waId,
      from_me: op.fromMe,
      remote_jid: op.remoteJid,
      participant: op.participant ?? undefined,
      sender_jid: op.senderJid,
      push_name: op.pushName,
      ts: op.ts,
      type: op.type,
      body: op.body,
      quoted_id: op.quotedId,
      mentions: op.mentions,
      media: op.media,
      media_key: op.mediaKey ? this.cipher.encrypt(op.mediaKey, mediaKeyContext(sessionId, op.waId, op.fromMe)).toString('base64') : undefined,
      status: op.status,
      edited_at: op.editedAt,
      deleted_at: op.deletedAt,
      reactions: op.reactions,
    };
  }
}
