import type { Readable } from 'node:stream';

/**
 * A request body the platform left unread (multipart/form-data: the only kind of body the gateway
 * streams), the same on every HTTP platform: the handler reads it as it arrives.
 */
export interface StreamedBody {
  /** The request's Content-Type header (with its parameters: a multipart body's boundary). */
  contentType: string | undefined;
  /** The bytes of the body, as the client sends them. */
  stream: Readable;
  /**
   * Asks for the connection to be closed after the response: a body refused part way (too
   * large, a wrong type) is not read to its end.
   */
  closeConnection(): void;
}
