/** Where a session's WhatsApp connection stands. */
export const SESSION_STATUSES = ['stopped', 'connecting', 'qr_required', 'connected', 'logged_out', 'failed'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];
