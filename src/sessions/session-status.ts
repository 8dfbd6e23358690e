/**
 * Where a session's WhatsApp connection stands.
 * - `stopped`: not meant to be connected (created with `start: false`, or stopped).
 * - `connecting`: meant to be connected and not (yet) connected: waiting for a replica, opening the
 *   socket, or backing off after a failed attempt (see `lastError` and `nextReconnectAt`).
 * - `qr_required`: connected to WhatsApp and waiting for a phone to link (QR code or pairing code).
 * - `connected`: linked and online.
 * - `logged_out`: the phone unlinked the session (or it was logged out over the API); its
 *   credentials are wiped. Starting it again shows a new QR code.
 * - `failed`: WhatsApp refused the session for good (e.g. banned, or credentials unreadable); it
 *   stays stopped until it is started again.
 */
export const SESSION_STATUSES = ['stopped', 'connecting', 'qr_required', 'connected', 'logged_out', 'failed'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** Whether the gateway should keep the session connected. */
export const DESIRED_STATES = ['running', 'stopped'] as const;
export type DesiredState = (typeof DESIRED_STATES)[number];

/** Statuses that only mean something while a replica holds the connection. */
const LIVE_STATUSES: ReadonlySet<SessionStatus> = new Set(['connecting', 'qr_required', 'connected']);

/**
 * The status a caller sees. A stored status is only as fresh as its holder: with no live lease,
 * nobody is connected, so a live-looking status reads `connecting` (still meant to run) or `stopped`.
 */
export function effectiveStatus(session: { status: SessionStatus; desiredState: DesiredState; heldBy: string | null }): SessionStatus {
  if (session.heldBy !== null || !LIVE_STATUSES.has(session.status)) return session.status;
  return session.desiredState === 'running' ? 'connecting' : 'stopped';
}

/**
 * Why the last connection closed, named after Baileys' DisconnectReason (the numeric code is kept
 * too). `unknown` covers codes WhatsApp or the network gave that have no name.
 */
export const DISCONNECT_REASONS = [
  'connectionClosed',
  'connectionLost',
  'connectionReplaced',
  'loggedOut',
  'badSession',
  'restartRequired',
  'multideviceMismatch',
  'forbidden',
  'unavailableService',
  'unknown',
] as const;
export type DisconnectReasonName = (typeof DISCONNECT_REASONS)[number];
