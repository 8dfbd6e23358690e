import type { UserFacingSocketConfig } from 'baileys' with { 'resolution-mode': 'import' };
import type { Baileys } from '../sync/baileys';

/** A stanza as Baileys hands it to `ws` listeners (its BinaryNode). */
export interface BaileysStanza {
  tag: string;
  attrs: Record<string, string | undefined>;
  content?: unknown;
}

/**
 * The part of a Baileys socket the engine uses; of its websocket, only the stanza listeners
 * (WhatsApp's server ack of a sent message arrives there: Baileys emits no event for it; so does
 * WhatsApp's answer to an app-state patch, whose refusal Baileys does not read).
 */
export type BaileysSocket = Pick<
  ReturnType<Baileys['makeWASocket']>,
  'ev' | 'end' | 'logout' | 'requestPairingCode' | 'updateMediaMessage' | 'sendMessage' | 'readMessages' | 'chatModify' | 'user'
> & { ws: { on(event: string, listener: (node: BaileysStanza) => void): unknown } };

/** Makes the socket for one connection. Tests swap it for one driven by Baileys' own event emitter. */
export type BaileysSocketFactory = (baileys: Baileys, config: UserFacingSocketConfig, sessionId: string) => BaileysSocket;

export const BAILEYS_SOCKET_FACTORY = Symbol('BAILEYS_SOCKET_FACTORY');

export const makeBaileysSocket: BaileysSocketFactory = (baileys, config) => baileys.makeWASocket(config);
