export const CHAT_TYPES = ['dm', 'group', 'broadcast', 'newsletter'] as const;
export type ChatType = (typeof CHAT_TYPES)[number];

/** `mutedUntil` of a chat muted forever: 9999-12-31T23:59:59.000Z. */
export const MUTED_FOREVER = 253_402_300_799_000;
