import type { Readable } from 'node:stream';
import type { MessageMediaSource } from './messages.repository';

/**
 * Where the media of a stored message comes from: WhatsApp, through the session's connection
 * (whatsapp-sync provides it). `open` resolves once WhatsApp answered, with the decrypted bytes as
 * a stream; it refuses (SessionConnectorError `not_connected`) when the session is not connected, and asks the phone to
 * upload the media again when WhatsApp no longer has it.
 */
export interface MessageMediaFetcher {
  open(sessionId: string, source: MessageMediaSource): Promise<Readable>;
}

export const MESSAGE_MEDIA_FETCHER = Symbol('MESSAGE_MEDIA_FETCHER');
