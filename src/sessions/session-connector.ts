/**
 * What the sessions API asks of the WhatsApp connection. Implemented by the WhatsAppSync module;
 * the sessions module only knows this interface (resolved at run time, so that WhatsAppSync can
 * depend on sessions and not the other way round). Each call works on whichever replica holds the
 * session: locally when this replica does, else through the holder.
 */
export interface SessionConnector {
  /** The session was marked running: connect it here now when this replica can take it, else leave it to the replicas' lease scan. */
  start(sessionId: string): Promise<void>;
  /** The session was marked stopped: close its connection (keeping the link) and resolve once it is closed. */
  stop(sessionId: string): Promise<void>;
  /** Unlink the phone (a WhatsApp logout when connected) and wipe the session's credentials; leaves it `logged_out` and stopped. */
  logout(sessionId: string): Promise<void>;
  /** Asks WhatsApp for an 8-character pairing code for `phoneNumber` (E.164 digits, no +). */
  requestPairingCode(sessionId: string, phoneNumber: string): Promise<string>;
}

export const SESSION_CONNECTOR = Symbol('SESSION_CONNECTOR');
