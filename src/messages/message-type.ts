export const MESSAGE_TYPES = [
  'text',
  'image',
  'video',
  'audio',
  'voice',
  'document',
  'sticker',
  'location',
  'contact',
  'poll',
  'system',
  'unsupported',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/**
 * Delivery status of an own message: the one home of its ordering rule. A status only moves
 * forward along `pending -> sent -> delivered -> read -> played`; `failed` comes only from
 * `pending` (a failure after WhatsApp acknowledged the message is ignored) and is itself beaten
 * by any acknowledgement that follows it (a retry, or a late ack, went through). `sent` is
 * WhatsApp's server ack, not the write to the socket: a message handed to WhatsApp stays
 * `pending` until the ack arrives. Stored as the index + 1 (`messages.status`), so applying a
 * status is `GREATEST` of the ranks (`furthestStatus`, and `GREATEST(status, $rank)` in SQL).
 */
export const MESSAGE_STATUSES = ['pending', 'failed', 'sent', 'delivered', 'read', 'played'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export const statusRank = (status: MessageStatus): number => MESSAGE_STATUSES.indexOf(status) + 1;
export const statusOfRank = (rank: number | null): MessageStatus | null => (rank === null ? null : (MESSAGE_STATUSES[rank - 1] ?? null));

/** The status after `next` arrives on a message at `current` (the rule above; SQL applies it as GREATEST of the ranks). */
export const furthestStatus = (current: MessageStatus | null, next: MessageStatus): MessageStatus =>
  current === null || statusRank(next) > statusRank(current) ? next : current;

/** The types whose message carries downloadable media. */
export const MEDIA_TYPES: ReadonlySet<MessageType> = new Set(['image', 'video', 'audio', 'voice', 'document', 'sticker']);
