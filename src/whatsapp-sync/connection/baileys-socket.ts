import type { UserFacingSocketConfig } from 'baileys' with { 'resolution-mode': 'import' };
import type { Baileys } from '../sync/baileys';

/** The part of a Baileys socket the engine uses. */
export type BaileysSocket = Pick<ReturnType<Baileys['makeWASocket']>, 'ev' | 'end' | 'logout' | 'requestPairingCode' | 'user'>;

/** Makes the socket for one connection. Tests swap it for one driven by Baileys' own event emitter. */
export type BaileysSocketFactory = (baileys: Baileys, config: UserFacingSocketConfig, sessionId: string) => BaileysSocket;

export const BAILEYS_SOCKET_FACTORY = Symbol('BAILEYS_SOCKET_FACTORY');

export const makeBaileysSocket: BaileysSocketFactory = (baileys, config) => baileys.makeWASocket(config);
