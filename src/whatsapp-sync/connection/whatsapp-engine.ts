import type { DisconnectReasonName } from '../../sessions/session-status';
import type { LeaseFence } from '../leases/lease-fence';

/** What happened to a connection, in the gateway's words (the engine translates its library's events). */
export type ConnectionEvent =
  | { type: 'connecting' }
  | { type: 'qr'; qr: string }
  | { type: 'open'; phoneJid: string | null; pushName: string | null }
  | { type: 'profile'; pushName: string | null }
  | {
      type: 'close';
      /** The status code of the close, when there is one (WhatsApp's or the socket's). */
      code: number | null;
      reason: DisconnectReasonName;
      message: string | null;
      /** Closed by close() (not by WhatsApp or the network). */
      intentional: boolean;
    };

export interface ConnectionListener {
  /** Events of one connection, one at a time, in order. */
  onEvent(event: ConnectionEvent): Promise<void>;
  /** A fenced credentials write was refused: another replica holds the session now. */
  onLeaseLost(): void;
}

/** One open (or opening) connection of a session. */
export interface EngineConnection {
  requestPairingCode(phoneNumber: string): Promise<string>;
  /** Unlinks the device from the phone; the connection then closes with `loggedOut`. */
  logout(): Promise<void>;
  /** Closes the connection, keeping the link; resolves once the close went through. */
  close(): Promise<void>;
}

/** The WhatsApp connection library, as the rest of the gateway sees it. */
export interface WhatsAppEngine {
  /** Opens a connection for the session whose lease `fence` proves; its credentials are read and written under that fence. */
  connect(fence: LeaseFence, listener: ConnectionListener): Promise<EngineConnection>;
  /** Wipes the session's stored credentials (logout). */
  forgetCredentials(fence: LeaseFence): Promise<void>;
}

export const WHATSAPP_ENGINE = Symbol('WHATSAPP_ENGINE');
