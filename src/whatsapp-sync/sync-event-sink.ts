import type { BaileysEventMap } from 'baileys' with { 'resolution-mode': 'import' };
import type { LeaseFence } from './leases/lease-fence';

/** One batch of Baileys events, exactly as `sock.ev.process` delivers it (after Baileys' own buffering). */
export type BaileysEventBatch = Partial<BaileysEventMap>;

/**
 * The seam between the connection (one Baileys socket per session) and the stored copy: the
 * connection hands every event batch of a session to the sink, in order, and awaits it.
 */
export interface SyncEventSink {
  /**
   * `fence` is the lease the connection holds the session under: the batch is written only while
   * it is still the current lease (LeaseLostError otherwise).
   */
  handle(sessionId: string, batch: BaileysEventBatch, fence?: LeaseFence): Promise<void>;
}

export const SYNC_EVENT_SINK = Symbol('SYNC_EVENT_SINK');
