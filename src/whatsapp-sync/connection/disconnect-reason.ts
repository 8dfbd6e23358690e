import type { DisconnectReasonName } from '../../sessions/session-status';

/**
 * Baileys' DisconnectReason codes and their names (408 is both `connectionLost` and `timedOut` in
 * Baileys; it is reported as `connectionLost`). A spec checks this table against Baileys' enum.
 */
export const DISCONNECT_CODES: Readonly<Record<number, DisconnectReasonName>> = {
  428: 'connectionClosed',
  408: 'connectionLost',
  440: 'connectionReplaced',
  401: 'loggedOut',
  500: 'badSession',
  515: 'restartRequired',
  411: 'multideviceMismatch',
  403: 'forbidden',
  503: 'unavailableService',
};

export function disconnectReasonName(code: number | null): DisconnectReasonName {
  return (code !== null && DISCONNECT_CODES[code]) || 'unknown';
}

/** What the connection does after a close with this reason. */
export type CloseDecision = 'reconnect' | 'restart' | 'check_lease' | 'logged_out' | 'failed';

export function decideAfterClose(reason: DisconnectReasonName): CloseDecision {
  switch (reason) {
    case 'loggedOut':
      return 'logged_out';
    case 'forbidden':
    case 'multideviceMismatch':
      return 'failed';
    case 'connectionReplaced':
      return 'check_lease';
    case 'restartRequired':
      return 'restart';
    case 'connectionClosed':
    case 'connectionLost':
    case 'badSession':
    case 'unavailableService':
    case 'unknown':
      return 'reconnect';
  }
}
