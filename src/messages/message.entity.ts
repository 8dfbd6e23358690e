import type { MessageMedia } from './dto/message.response';

/**
 * A stored message as the messages table holds it (migration 1765000063700), as pg returns it:
 * int8 columns stay PostgreSQL's text (converted once, in toMessageResponse). The table is written
 * by the sync (whatsapp-sync/sync/message-store.repository.ts) with set-based SQL and read with
 * plain SQL on the page-read pool; it is not a TypeORM entity, since TypeORM's per-row objects
 * cost more than the page query itself. `id` is NULL only in the one row of NULLs a chat without
 * messages gives.
 */
export interface StoredMessage {
  id: string | null;
  chat_id: string;
  wa_id: string;
  from_me: boolean;
  remote_jid: string;
  participant: string | null;
  sender_jid: string | null;
  push_name: string | null;
  ts: string | null;
  type: string | null;
  body: string | null;
  quoted_id: string | null;
  mentions: string[] | null;
  media: (MessageMedia & Record<string, unknown>) | null;
  status: number | null;
  edited_at: string | null;
  deleted_at: string | null;
  /** sender JID ('me' for own reactions) -> [emoji, empty when removed; sender time ms] */
  reactions: Record<string, [string, number]> | null;
}
