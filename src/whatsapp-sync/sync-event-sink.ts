import type { BaileysEventMap } from 'baileys' with { 'resolution-mode': 'import' };

/** One batch of Baileys events, exactly as `sock.ev.process` delivers it (after Baileys' own buffering). */
export type BaileysEventBatch = Partial<BaileysEventMap>;

/**
 * The seam between the connection (one Baileys socket per session) and the stored copy: the
 * connection hands every event batch of a session to the sink, in order, and awaits it.
 */
export interface SyncEventSink {
  handle(sessionId: string, batch: BaileysEventBatch): Promise<void>;
}

export const SYNC_EVENT_SINK = Symbol('SYNC_EVENT_SINK');
