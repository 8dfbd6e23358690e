import type { DisconnectReasonName } from '../../sessions/session-status';
import type { LeaseFence } from '../leases/lease-fence';
import type { OutgoingMessage } from '../../messages/sending/outgoing-message';

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
      /**
       * What closed it. `whatsapp`: WhatsApp or the library said why, in its own fixed words
       * (`message`). `network`: the socket failed below WhatsApp's protocol; `message` is the system
       * error code (ENOTFOUND, ECONNREFUSED, ...) or null. `gateway`: an error inside the gateway
       * (database, credentials, a bug); `message` is null, the engine logged the detail.
       */
      origin: 'whatsapp' | 'network' | 'gateway';
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

/** A stored media message, as the phone needs it to upload the media again. */
export interface MediaReuploadRequest {
  key: { remoteJid: string; id: string; fromMe: boolean; participant: string | null };
  /** Baileys' content field of the media (imageMessage, documentMessage, ...). */
  contentField: string;
  mediaKey: Buffer;
  directPath: string | null;
  url: string | null;
}

/** What became of a message or write handed to WhatsApp. */
export interface SentMessage {
  /**
   * WhatsApp's server ack: null once it acknowledged it (for a write, after the stored copy took
   * the change), the error code of an error ack; never settles when no ack comes (the connection dropped).
   */
  ack: Promise<string | null>;
}

/** One open (or opening) connection of a session. */
export interface EngineConnection {
  requestPairingCode(phoneNumber: string): Promise<string>;
  /** Asks the phone to upload a message's media again; resolves with where WhatsApp serves it now. */
  reuploadMedia(request: MediaReuploadRequest): Promise<{ directPath: string | null; url: string | null }>;
  /**
   * Sends a message (or a write) under its fixed WhatsApp id; resolves once it went out on the
   * socket. A chat change resolves once WhatsApp accepted each of its app-state patches (its ack
   * then already settled), and throws WriteRefusedError when WhatsApp refused one.
   */
  sendMessage(message: OutgoingMessage): Promise<SentMessage>;
  /** Unlinks the device from the phone; the connection then closes with `loggedOut`. */
  logout(): Promise<void>;
  /** Closes the connection, keeping the link; resolves once the close went through. */
  close(): Promise<void>;
}

/**
 * WhatsApp refused a write with an error of its own (an app-state patch answered with an error):
 * final, sending it again would be refused again. `code` is WhatsApp's error code.
 */
export class WriteRefusedError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** The WhatsApp connection library, as the rest of the gateway sees it. */
export interface WhatsAppEngine {
  /** Opens a connection for the session whose lease `fence` proves; its credentials are read and written under that fence. */
  connect(fence: LeaseFence, listener: ConnectionListener): Promise<EngineConnection>;
  /** Wipes the session's stored credentials (logout). */
  forgetCredentials(fence: LeaseFence): Promise<void>;
}

export const WHATSAPP_ENGINE = Symbol('WHATSAPP_ENGINE');
