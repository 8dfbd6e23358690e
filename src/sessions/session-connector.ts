import { AppError } from '../common/errors/app-error';
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

/**
 * Why the connection could not do what was asked. The connection layer throws these (never an
 * API error); SessionsService maps each reason to the API's error at the boundary:
 * - `not_waiting_for_link`: a pairing code was asked of a session that is not `qr_required` (409);
 * - `busy`: another operation on the session is under way (409);
 * - `moving`: the session changed replicas under the call (503);
 * - `holder_silent`: the replica holding the session did not answer in time (503);
 * - `pairing_refused`: WhatsApp did not accept the pairing request (503);
 * - `not_connected`: media was asked of a session that is not connected (409);
 * - `media_reupload_refused`: the phone did not upload a message's media again (503).
 */
export const SESSION_CONNECTOR_REFUSALS = [
  'not_waiting_for_link',
  'busy',
  'moving',
  'holder_silent',
  'pairing_refused',
  'not_connected',
  'media_reupload_refused',
] as const;
export type SessionConnectorRefusal = (typeof SESSION_CONNECTOR_REFUSALS)[number];

export class SessionConnectorError extends Error {
  constructor(
    readonly reason: SessionConnectorRefusal,
    message: string,
    /** The connection status the refusal was based on, when it was. */
    readonly status?: string,
  ) {
    super(message);
    this.name = 'SessionConnectorError';
  }
}

const REFUSAL_CODES: Record<SessionConnectorRefusal, 'conflict' | 'unavailable'> = {
  not_waiting_for_link: 'conflict',
  busy: 'conflict',
  moving: 'unavailable',
  holder_silent: 'unavailable',
  pairing_refused: 'unavailable',
  not_connected: 'conflict',
  media_reupload_refused: 'unavailable',
};

/** The API's error code for a refusal of the connection layer. */
export function refusalApiCode(reason: SessionConnectorRefusal): 'conflict' | 'unavailable' {
  return REFUSAL_CODES[reason];
}

/** The API's error for a refusal of the connection layer (SessionsService, MessagesService). */
export function connectorRefusalToApiError(error: SessionConnectorError): AppError {
  return new AppError(refusalApiCode(error.reason), error.message, error.status === undefined ? {} : { status: error.status });
}
